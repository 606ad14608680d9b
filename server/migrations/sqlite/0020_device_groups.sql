-- Defender's device group (rbacGroupId, rbacGroupName) and tags (machineTags, a JSON list) of
-- each machine, as the last sync listed them. A machine in no group has id 0 and no name.
ALTER TABLE defender_machine ADD COLUMN rbac_group_id INTEGER;
ALTER TABLE defender_machine ADD COLUMN rbac_group_name TEXT;
ALTER TABLE defender_machine ADD COLUMN machine_tags TEXT NOT NULL DEFAULT '[]';
