-- Console read paths (issue 10, bench/console.ts): what the call list and the client page filter on.

-- The call list: a clinic's unresolved tasks in due order, read up to its limit without sorting the backlog.
CREATE INDEX staff_tasks_due ON staff_tasks (clinic_id, due_at, created_at) WHERE status <> 'resolved';

-- The client page reads everything of one client; these tables were indexed by clinic (or not at all) first.
CREATE INDEX staff_tasks_client ON staff_tasks (client_id, created_at);
CREATE INDEX sequences_client_created ON sequences (client_id, created_at);
CREATE INDEX inbound_messages_client ON inbound_messages (client_id, received_at);
CREATE INDEX incentives_client ON incentives (client_id, created_at);
