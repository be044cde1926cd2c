//! HAL building blocks: links and paged collections.
//!
//! Every Beyond list wraps its items as `_embedded.<collection>[]`, and the collection key
//! differs per endpoint. One generic [`Page<T>`] serves them all: the item type names its
//! key through [`HalCollection`].

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One HAL link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub href: String,
    /// Set for URI templates such as `{?width,height}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub templated: Option<bool>,
}

impl Link {
    pub fn new(href: impl Into<String>) -> Self {
        Self {
            href: href.into(),
            templated: None,
        }
    }
}

/// `_links`: relation name → link. Relations also say which actions are possible now
/// (e.g. `cancel` disappears once an order is canceled).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Links(pub BTreeMap<String, Link>);

impl<'de> Deserialize<'de> for Links {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `null` reads as no links, like a missing `_links`.
        Ok(Self(
            Option::<BTreeMap<String, Link>>::deserialize(deserializer)?.unwrap_or_default(),
        ))
    }
}

impl Links {
    pub fn new() -> Self {
        Self::default()
    }

    /// The href of `rel`, if present.
    pub fn href(&self, rel: &str) -> Option<&str> {
        self.0.get(rel).map(|link| link.href.as_str())
    }

    /// Whether the relation is present.
    pub fn has(&self, rel: &str) -> bool {
        self.0.contains_key(rel)
    }

    /// Builder-style insert, handy for servers building responses.
    pub fn with(mut self, rel: impl Into<String>, href: impl Into<String>) -> Self {
        self.0.insert(rel.into(), Link::new(href));
        self
    }

    pub fn insert(&mut self, rel: impl Into<String>, href: impl Into<String>) {
        self.0.insert(rel.into(), Link::new(href));
    }
}

/// An item type that appears in a paged HAL list, and the `_embedded` key it sits under.
pub trait HalCollection {
    /// E.g. `orders`, `order-events`, `shipping-processes`, `variations`.
    const COLLECTION: &'static str;
}

/// `page{size,totalElements,totalPages,number}`; `number` is 0-based.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageMeta {
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub total_elements: u64,
    #[serde(default)]
    pub total_pages: u64,
    #[serde(default)]
    pub number: u64,
}

/// A paged HAL list. `page` is absent on unpaged lists such as `GET /signers`, and
/// `_embedded` is absent when the list is empty; both parse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize + HalCollection",
    deserialize = "T: DeserializeOwned + HalCollection"
))]
pub struct Page<T> {
    #[serde(rename = "_embedded", default)]
    pub items: Embedded<T>,
    #[serde(rename = "_links", default)]
    pub links: Links,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageMeta>,
}

impl<T> Page<T> {
    /// A page for servers to serialize.
    pub fn new(items: Vec<T>, links: Links, page: Option<PageMeta>) -> Self {
        Self {
            items: Embedded(items),
            links,
            page,
        }
    }

    pub fn items(&self) -> &[T] {
        &self.items.0
    }

    pub fn into_items(self) -> Vec<T> {
        self.items.0
    }

    /// The `next` link, if the server sent one.
    pub fn next_href(&self) -> Option<&str> {
        self.links.href("next")
    }
}

/// The `_embedded` object of a [`Page`]: only the item type's own collection key is read;
/// other keys are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embedded<T>(pub Vec<T>);

impl<T> Default for Embedded<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T: Serialize + HalCollection> Serialize for Embedded<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(T::COLLECTION, &self.0)?;
        map.end()
    }
}

impl<'de, T: DeserializeOwned + HalCollection> Deserialize<'de> for Embedded<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EmbeddedVisitor<T>(PhantomData<T>);

        impl<'de, T: DeserializeOwned + HalCollection> Visitor<'de> for EmbeddedVisitor<T> {
            type Value = Embedded<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an _embedded object with key {:?}", T::COLLECTION)
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Embedded::default())
            }

            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Embedded::default())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut items = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == T::COLLECTION && items.is_none() {
                        items = Some(map.next_value::<Option<Vec<T>>>()?.unwrap_or_default());
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Embedded(items.unwrap_or_default()))
            }
        }

        deserializer.deserialize_any(EmbeddedVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Thing {
        name: String,
    }

    impl HalCollection for Thing {
        const COLLECTION: &'static str = "things";
    }

    #[test]
    fn reads_the_collection_key_and_ignores_others() {
        let json = r#"{"_embedded":{"other":[1,2],"things":[{"name":"a"},{"name":"b"}]},
            "_links":{"self":{"href":"/things?page=0"},"next":{"href":"/things?page=1"}},
            "page":{"size":2,"totalElements":3,"totalPages":2,"number":0}}"#;
        let page: Page<Thing> = serde_json::from_str(json).unwrap();
        assert_eq!(page.items().len(), 2);
        assert_eq!(page.next_href(), Some("/things?page=1"));
        assert_eq!(page.page.unwrap().total_pages, 2);
    }

    #[test]
    fn empty_lists_omit_embedded_and_unpaged_lists_omit_page() {
        let page: Page<Thing> = serde_json::from_str(r#"{"_links":{}}"#).unwrap();
        assert!(page.items().is_empty());
        assert!(page.page.is_none());
    }

    #[test]
    fn serializes_under_the_collection_key() {
        let page = Page::new(
            vec![Thing { name: "x".into() }],
            Links::new().with("self", "/things"),
            Some(PageMeta {
                size: 20,
                total_elements: 1,
                total_pages: 1,
                number: 0,
            }),
        );
        let value = serde_json::to_value(&page).unwrap();
        assert_eq!(value["_embedded"]["things"][0]["name"], "x");
        assert_eq!(value["_links"]["self"]["href"], "/things");
        assert_eq!(value["page"]["totalElements"], 1);
        let back: Page<Thing> = serde_json::from_value(value).unwrap();
        assert_eq!(back, page);
    }
}
