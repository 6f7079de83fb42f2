//! Reading one conversation of an export without holding it whole as JSON: its own fields are
//! kept as JSON (they are few and small), and the field that holds its messages (`messages`,
//! `mapping` or `chat_messages`) is read one element at a time into a [`Messages`], which
//! converts each element at once and drops its JSON.

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::formats::{self, Format, Messages};
use super::model::Convo;

/// One element of an export, read.
pub struct Conversation {
    /// Its fields, but for the message lists; empty when it is not an object.
    pub fields: Map<String, Value>,
    /// The message lists found, by format (in [`Format::PRECEDENCE`] order).
    lists: [Option<Messages>; 3],
}

impl Conversation {
    /// Which export it is, by its message list.
    pub fn format(&self) -> Option<Format> {
        self.lists.iter().flatten().next().map(Messages::format)
    }

    /// Its title, for reports.
    pub fn title(&self) -> Option<String> {
        formats::title_of(&self.fields)
    }

    /// The conversation, or why it is skipped.
    pub fn into_convo(self) -> Result<Convo, String> {
        let Some(messages) = self.lists.into_iter().flatten().next() else {
            return Err("not a ChatGPT, Claude or LibreChat conversation".into());
        };
        formats::convert(self.fields, messages)
    }

    /// Reads a conversation already parsed (for tests and small inputs).
    pub fn from_value(v: Value) -> Self {
        Self::deserialize(v).expect("a JSON value reads as a conversation")
    }
}

fn slot(format: Format) -> usize {
    Format::PRECEDENCE
        .iter()
        .position(|f| *f == format)
        .expect("every format has a place")
}

impl<'de> Deserialize<'de> for Conversation {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ConversationVisitor)
    }
}

struct ConversationVisitor;

impl ConversationVisitor {
    fn not_an_object<E>(self) -> Result<Conversation, E> {
        Ok(Conversation {
            fields: Map::new(),
            lists: [None, None, None],
        })
    }
}

impl<'de> Visitor<'de> for ConversationVisitor {
    type Value = Conversation;

    fn expecting(&self, out: &mut std::fmt::Formatter) -> std::fmt::Result {
        out.write_str("a conversation")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Conversation, A::Error> {
        let mut fields = Map::new();
        let mut lists: [Option<Messages>; 3] = [None, None, None];
        while let Some(key) = map.next_key::<String>()? {
            let format = Format::PRECEDENCE
                .into_iter()
                .find(|f| f.list_field().0 == key);
            match format {
                Some(f) => match map.next_value_seed(ListSeed(f))? {
                    Listed::List(messages) => lists[slot(f)] = Some(messages),
                    Listed::Other(v) => {
                        fields.insert(key, v);
                    }
                },
                None => {
                    let v: Value = map.next_value()?;
                    fields.insert(key, v);
                }
            }
        }
        Ok(Conversation { fields, lists })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Conversation, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.not_an_object()
    }

    fn visit_bool<E>(self, _: bool) -> Result<Conversation, E> {
        self.not_an_object()
    }
    fn visit_i64<E>(self, _: i64) -> Result<Conversation, E> {
        self.not_an_object()
    }
    fn visit_u64<E>(self, _: u64) -> Result<Conversation, E> {
        self.not_an_object()
    }
    fn visit_f64<E>(self, _: f64) -> Result<Conversation, E> {
        self.not_an_object()
    }
    fn visit_str<E>(self, _: &str) -> Result<Conversation, E> {
        self.not_an_object()
    }
    fn visit_unit<E>(self) -> Result<Conversation, E> {
        self.not_an_object()
    }
}

/// A field named like a message list: the list, read, or (when it is not the kind of value
/// the format has there) the value itself, an ordinary field.
enum Listed {
    List(Messages),
    Other(Value),
}

struct ListSeed(Format);

impl<'de> DeserializeSeed<'de> for ListSeed {
    type Value = Listed;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Listed, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListSeed {
    type Value = Listed;

    fn expecting(&self, out: &mut std::fmt::Formatter) -> std::fmt::Result {
        out.write_str("a list of messages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Listed, A::Error> {
        if self.0.list_field().1 {
            return Value::deserialize(SeqAccessDeserializer::new(seq)).map(Listed::Other);
        }
        let mut messages = Messages::new(self.0);
        while let Some(v) = seq.next_element::<Value>()? {
            messages.push(None, v);
        }
        Ok(Listed::List(messages))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Listed, A::Error> {
        if !self.0.list_field().1 {
            return Value::deserialize(MapAccessDeserializer::new(map)).map(Listed::Other);
        }
        let mut messages = Messages::new(self.0);
        while let Some((key, v)) = map.next_entry::<String, Value>()? {
            messages.push(Some(key), v);
        }
        Ok(Listed::List(messages))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Listed, E> {
        Ok(Listed::Other(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Listed, E> {
        Ok(Listed::Other(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Listed, E> {
        Ok(Listed::Other(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Listed, E> {
        Ok(Listed::Other(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Listed, E> {
        Ok(Listed::Other(v.into()))
    }
    fn visit_unit<E>(self) -> Result<Listed, E> {
        Ok(Listed::Other(Value::Null))
    }
}
