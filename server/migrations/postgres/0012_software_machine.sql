-- The devices Defender lists for a software product (List devices by software,
-- defender-api.md §4.16), read when the Software page opens the product and kept as a cache:
-- a 100k tenant has tens of thousands of references per common product, too many to ask for
-- every hour for products nobody opens. Replaced whole on each read of the product.
CREATE TABLE software_machine (
    software_id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    computer_dns_name TEXT,
    os_platform TEXT,
    rbac_group_name TEXT,
    PRIMARY KEY (software_id, machine_id)
);

-- When each product's references were last read; a product never read has no row.
CREATE TABLE software_machine_read (
    software_id TEXT PRIMARY KEY,
    read_at TEXT NOT NULL
);
