//! LibreChat's prompts library shapes: `TPromptGroup` and `TPrompt`, borrowed from the rows
//! they are made of, so a list of thousands of groups (`/api/prompts/all`, the `/` picker's)
//! is written straight from the rows without building a JSON tree first.

use serde::Serialize;

/// LibreChat's `TPromptGroup`, as its lists and reads answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TPromptGroup<'a> {
    #[serde(rename = "_id")]
    pub id: &'a str,
    pub name: &'a str,
    pub number_of_generations: i64,
    pub oneliner: &'a str,
    pub category: &'a str,
    pub production_id: Option<&'a str>,
    pub author: &'a str,
    pub author_name: &'a str,
    /// Left out when the group has no `/` command, as LibreChat's documents omit it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<&'a str>,
    pub created_at: &'a str,
    pub updated_at: &'a str,
    /// `null` when the production version is gone.
    pub production_prompt: Option<ProductionPrompt<'a>>,
    /// Present (and `true`) only when everyone may see the group.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_public: bool,
}

/// The production version's text, as LibreChat populates `productionPrompt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProductionPrompt<'a> {
    pub prompt: &'a str,
}

/// LibreChat's `TPrompt`: one version of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TPrompt<'a> {
    #[serde(rename = "_id")]
    pub id: &'a str,
    pub group_id: &'a str,
    pub author: &'a str,
    pub prompt: &'a str,
    /// `text` or `chat`.
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub created_at: &'a str,
    pub updated_at: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn group(command: Option<&'static str>, is_public: bool) -> TPromptGroup<'static> {
        TPromptGroup {
            id: "g",
            name: "n",
            number_of_generations: 2,
            oneliner: "",
            category: "code",
            production_id: Some("p"),
            author: "u",
            author_name: "U",
            command,
            created_at: "c",
            updated_at: "u",
            production_prompt: Some(ProductionPrompt { prompt: "hi" }),
            is_public,
        }
    }

    #[test]
    fn a_group_without_command_or_public_access_omits_both() {
        let v = serde_json::to_value(group(None, false)).unwrap();
        assert_eq!(
            v,
            json!({"_id": "g", "name": "n", "numberOfGenerations": 2, "oneliner": "",
                   "category": "code", "productionId": "p", "author": "u", "authorName": "U",
                   "createdAt": "c", "updatedAt": "u", "productionPrompt": {"prompt": "hi"}})
        );
        let v = serde_json::to_value(group(Some("hello"), true)).unwrap();
        assert_eq!(v["command"], "hello");
        assert_eq!(v["isPublic"], true);
    }
}
