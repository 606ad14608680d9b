-- What Defender's advanced hunting says about each imported machine's network and hardware
-- (defender-api.md §4.14, tables DeviceNetworkInfo and DeviceInfo): read at most once a day,
-- one shard of machine ids at a time, each shard replaced whole when it is read.

-- Every network adapter of the machine's latest report, with or without an address.
-- ip_addresses: JSON [{"address","prefix","space"}]; connected_networks: JSON
-- [{"name","category","internet"}]. mac is the canonical form (upper case, colons).
CREATE TABLE machine_adapter (
    machine_id TEXT NOT NULL,
    adapter_name TEXT NOT NULL,
    adapter_type TEXT,
    adapter_status TEXT,
    mac TEXT,
    ip_addresses JSONB NOT NULL,
    connected_networks JSONB NOT NULL,
    reported_at TEXT NOT NULL,
    PRIMARY KEY (machine_id, adapter_name)
);

-- The device's identity attributes: of each, the latest value Defender reported (its rows
-- are sparse, so the latest row alone would lose them).
CREATE TABLE machine_device_info (
    machine_id TEXT PRIMARY KEY,
    device_type TEXT,
    model TEXT,
    vendor TEXT,
    os_architecture TEXT,
    join_type TEXT,
    reported_at TEXT NOT NULL
);

