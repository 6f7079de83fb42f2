-- Stands in for i17-access's 0013 (the permission system) so that 0014 builds on this branch.
-- Dropped when this branch is rebased on a main that has the real 0013.
SELECT 1;
