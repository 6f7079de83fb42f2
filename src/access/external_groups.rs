//! Groups kept in step with an identity provider (ours: LibreChat reads outside groups only
//! from Microsoft Entra). At each sign-in the provider's list (an OpenID claim, or LDAP group
//! membership) is read and checked here, and the person's memberships of that source's groups
//! are then set to exactly it (`db::groups::sync_memberships`): a group seen for the first time
//! is created, named as the provider names it, with its source and the provider's id for it;
//! memberships the provider no longer gives are removed; groups made by administrators
//! (`local`) are never touched.
//!
//! What cannot be read is no membership: a list refused as a whole (longer than
//! [`MAX_GROUPS`], or not a list) leaves the person in none of that source's groups, so a
//! broken or hostile claim can only take access away, never grant it. The sign-in goes on.

use serde_json::Value;

use crate::config::GroupPattern;

/// The most groups one person may bring from one source; a longer list is refused whole
/// (an `*_GROUPS_INCLUDE` pattern narrows what counts).
pub const MAX_GROUPS: usize = 200;
/// The longest group name taken, as for groups made on the command line.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest id at the source taken (an LDAP DN is longer than its name).
pub const MAX_ID_CHARS: usize = 1000;

/// Where a group's members come from (the `source` of LibreChat's group schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSource {
    OpenId,
    Ldap,
}

impl GroupSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenId => "openid",
            Self::Ldap => "ldap",
        }
    }
}

/// One group a provider names: its id there (`idOnTheSource`) and its name here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalGroup {
    pub id: String,
    pub name: String,
}

/// One value of a provider's list, before the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offered {
    Group {
        id: String,
        name: String,
    },
    /// A number, an object, ... where a group name was expected (or, from LDAP, a value
    /// that is not a DN).
    Unreadable,
}

/// A person's groups at one source, as the sign-in found them, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderGroups {
    pub source: GroupSource,
    pub groups: Vec<ExternalGroup>,
}

impl ProviderGroups {
    /// In none of the source's groups (the provider lists none, or nothing readable).
    pub fn none(source: GroupSource) -> Self {
        Self {
            source,
            groups: Vec::new(),
        }
    }

    /// The groups an OpenID claim (`OPENID_GROUPS_CLAIM`) lists: a list of names, or one name;
    /// absent or null lists none, and so does a claim of another kind (logged).
    pub fn from_claim(claim: Option<&Value>, include: Option<&GroupPattern>, who: &str) -> Self {
        let source = GroupSource::OpenId;
        let text = |s: &String| Offered::Group {
            id: s.clone(),
            name: s.clone(),
        };
        match claim {
            None | Some(Value::Null) => Self::none(source),
            Some(Value::String(s)) => Self::checked(source, [text(s)], include, who),
            Some(Value::Array(values)) => {
                let offered = values.iter().map(|v| match v {
                    Value::String(s) => text(s),
                    _ => Offered::Unreadable,
                });
                Self::checked(source, offered, include, who)
            }
            Some(_) => {
                tracing::warn!(
                    subject = who,
                    "the groups claim is neither a list nor a name: no groups taken"
                );
                Self::none(source)
            }
        }
    }

    /// The groups of `offered` that pass the checks, for the person `who` is at the provider
    /// (for the log). Values that are not text, empty, too long or hold control characters
    /// are left out, and groups `include` does not match; more than [`MAX_GROUPS`] left
    /// refuses the whole list. Each refusal is logged as a warning.
    pub fn checked(
        source: GroupSource,
        offered: impl IntoIterator<Item = Offered>,
        include: Option<&GroupPattern>,
        who: &str,
    ) -> Self {
        let (mut unreadable, mut unfit) = (0usize, 0usize);
        let mut groups: Vec<ExternalGroup> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for value in offered {
            let Offered::Group { id, name } = value else {
                unreadable += 1;
                continue;
            };
            let (id, name) = (id.trim(), name.trim());
            if id.is_empty() || name.is_empty() {
                continue;
            }
            if name.chars().count() > MAX_NAME_CHARS
                || id.chars().count() > MAX_ID_CHARS
                || name.chars().chain(id.chars()).any(char::is_control)
            {
                unfit += 1;
                continue;
            }
            if include.is_some_and(|p| !p.matches(name)) || seen.contains(id) {
                continue;
            }
            if groups.len() == MAX_GROUPS {
                tracing::warn!(
                    source = source.as_str(),
                    subject = who,
                    max = MAX_GROUPS,
                    "the provider lists too many groups: none taken (narrow them with the *_GROUPS_INCLUDE setting)"
                );
                return Self::none(source);
            }
            seen.insert(id.to_owned());
            groups.push(ExternalGroup {
                id: id.to_owned(),
                name: name.to_owned(),
            });
        }
        if unreadable > 0 || unfit > 0 {
            tracing::warn!(
                source = source.as_str(),
                subject = who,
                unreadable,
                too_long_or_control_characters = unfit,
                "some of the provider's group values were left out"
            );
        }
        Self { source, groups }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Vec<Offered> {
        names
            .iter()
            .map(|n| Offered::Group {
                id: n.to_string(),
                name: n.to_string(),
            })
            .collect()
    }

    fn names(g: &ProviderGroups) -> Vec<&str> {
        g.groups.iter().map(|g| g.name.as_str()).collect()
    }

    #[test]
    fn unfit_values_are_left_out_and_the_rest_kept() {
        let long = "x".repeat(MAX_NAME_CHARS + 1);
        let fits = "y".repeat(MAX_NAME_CHARS);
        let mut offered = named(&[
            "eng",
            " eng ",
            "",
            "  ",
            &long,
            &fits,
            "a\u{1b}[31m",
            "sales",
        ]);
        offered.push(Offered::Unreadable);
        let g = ProviderGroups::checked(GroupSource::OpenId, offered, None, "sub");
        assert_eq!(names(&g), ["eng", fits.as_str(), "sales"]);
    }

    #[test]
    fn a_list_past_the_cap_is_refused_whole_and_the_cap_itself_taken() {
        let at: Vec<String> = (0..MAX_GROUPS).map(|i| format!("g{i}")).collect();
        let at: Vec<&str> = at.iter().map(String::as_str).collect();
        let g = ProviderGroups::checked(GroupSource::Ldap, named(&at), None, "sub");
        assert_eq!(g.groups.len(), MAX_GROUPS);
        let mut over = named(&at);
        over.extend(named(&["one more"]));
        let g = ProviderGroups::checked(GroupSource::Ldap, over, None, "sub");
        assert_eq!(g, ProviderGroups::none(GroupSource::Ldap));
        // Duplicates count once.
        let mut dup = named(&at);
        dup.extend(named(&["g0"]));
        let g = ProviderGroups::checked(GroupSource::Ldap, dup, None, "sub");
        assert_eq!(g.groups.len(), MAX_GROUPS);
    }

    #[test]
    fn a_claim_is_a_list_of_names_or_one_name() {
        let names_of = |v: Value| -> Vec<String> {
            ProviderGroups::from_claim(Some(&v), None, "sub")
                .groups
                .into_iter()
                .map(|g| g.name)
                .collect()
        };
        use serde_json::json;
        assert_eq!(
            names_of(json!(["a", 7, null, {"x": 1}, ["b"], "b"])),
            ["a", "b"]
        );
        assert_eq!(names_of(json!("solo")), ["solo"]);
        assert!(names_of(json!({"a": "b"})).is_empty());
        assert!(names_of(json!(true)).is_empty());
        assert!(names_of(Value::Null).is_empty());
        let none = ProviderGroups::from_claim(None, None, "sub");
        assert_eq!(none, ProviderGroups::none(GroupSource::OpenId));
    }

    #[test]
    fn the_include_pattern_narrows_before_the_cap() {
        let env = crate::config::Env::from_pairs([("P", "^lc-")]);
        let p = GroupPattern::from_env(&env, "P").unwrap().unwrap();
        let many: Vec<String> = (0..MAX_GROUPS * 2).map(|i| format!("other{i}")).collect();
        let mut offered = named(&many.iter().map(String::as_str).collect::<Vec<_>>());
        offered.extend(named(&["lc-eng"]));
        let g = ProviderGroups::checked(GroupSource::OpenId, offered, Some(&p), "sub");
        assert_eq!(names(&g), ["lc-eng"]);
    }
}
