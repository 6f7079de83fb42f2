-- Groups kept in step with an identity provider at each sign-in (`source` 'openid' or 'ldap'):
-- found again by the provider's id for them, and named as the provider names them, so two
-- sources (or an administrator's group) may use the same name. Names stay unique among the
-- groups administrators make, which the command line addresses by name.
DROP INDEX groups_by_name;
CREATE UNIQUE INDEX groups_by_name ON groups (name COLLATE NOCASE) WHERE source = 'local';
CREATE UNIQUE INDEX groups_by_source_id ON groups (source, id_on_the_source)
    WHERE id_on_the_source IS NOT NULL;
