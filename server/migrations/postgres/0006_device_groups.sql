-- Defender's device group (rbacGroupId, rbacGroupName) and tags (machineTags, a JSON list) of
-- each machine, as the last sync listed them. A machine in no group has id 0 and no name.
ALTER TABLE defender_machine
    ADD COLUMN rbac_group_id BIGINT,
    ADD COLUMN rbac_group_name TEXT,
    ADD COLUMN machine_tags JSONB NOT NULL DEFAULT '[]';
