-- At most one running import per meter, enforced where every writer meets (the server's
-- upload routes, other instances, `headroom import`): two runs over one meter would
-- interleave their batches and progress. Older duplicates are ended first, keeping the
-- oldest running one; uploading their file again resumes them.
UPDATE imports SET status = 'failed',
                   error = 'stopped: another import of this meter was running'
 WHERE status = 'running'
   AND id <> (SELECT min(other.id) FROM imports other
               WHERE other.meter_id = imports.meter_id AND other.status = 'running');

CREATE UNIQUE INDEX imports_one_running_per_meter ON imports (meter_id) WHERE status = 'running';
