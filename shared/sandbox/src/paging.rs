//! Spring Data paging as Beyond exposes it: `page` (0-based), `size` (default 20) and
//! `sort=property[,asc|desc]`, answered with `page{size,totalElements,totalPages,number}`
//! and `self`/`first`/`prev`/`next`/`last` links.
//!
//! Like Spring's resolver, unparsable or negative values fall back to the defaults, and a
//! `size` above the maximum is clamped, not rejected. The maximum is 200 (the page size the
//! official SDK uses to read "all"; Beyond's own limit is undocumented), so a client asking
//! for more silently gets pages of 200 and must follow `next`.

use beyond::model as m;

use crate::error::ApiError;
use crate::http::Query;

pub const DEFAULT_SIZE: usize = 20;
pub const MAX_SIZE: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub property: String,
    pub direction: Direction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    pub page: usize,
    pub size: usize,
    pub sort: Option<Sort>,
}

impl Paging {
    pub fn from_query(query: &Query, default_size: usize) -> Self {
        let page = query
            .get("page")
            .and_then(|raw| raw.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let size = query
            .get("size")
            .and_then(|raw| raw.trim().parse::<usize>().ok())
            .filter(|size| *size > 0)
            .unwrap_or(default_size)
            .min(MAX_SIZE);
        let sort = query.get("sort").and_then(|raw| {
            let mut parts = raw.split(',').map(str::trim);
            let property = parts.next().filter(|p| !p.is_empty())?.to_owned();
            let direction = match parts.next().map(str::to_ascii_lowercase).as_deref() {
                Some("desc") => Direction::Desc,
                _ => Direction::Asc,
            };
            Some(Sort {
                property,
                direction,
            })
        });
        Self { page, size, sort }
    }

    /// Rejects a sort property outside `allowed` with 400 `invalid-sort-property`, the
    /// error Beyond documents for variations.
    pub fn check_sort(&self, entity: &str, allowed: &[&str]) -> Result<(), ApiError> {
        match &self.sort {
            Some(sort) if !allowed.contains(&sort.property.as_str()) => Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid-sort-property",
                format!(
                    "The property '{}' is no valid sort property. {entity} can only be sorted by the following properties: '[{}]'.",
                    sort.property,
                    allowed.join(", ")
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Cuts one page out of the full, already sorted list and builds the HAL page.
    /// `base` is the collection href; `query` keeps the request's other parameters
    /// (filters) in the links so `next` stays within the same selection.
    pub fn page<T: m::HalCollection>(&self, all: Vec<T>, base: &str, query: &Query) -> m::Page<T> {
        self.page_with(all, base, query, |item| item)
    }

    /// [`Paging::page`] that renders only the items on the page (listing thousands of
    /// orders must not serialize all of them for every page).
    pub fn page_with<S, T: m::HalCollection>(
        &self,
        all: Vec<S>,
        base: &str,
        query: &Query,
        render: impl FnMut(S) -> T,
    ) -> m::Page<T> {
        let total = all.len();
        let total_pages = total.div_ceil(self.size);
        let items: Vec<T> = all
            .into_iter()
            .skip(self.page.saturating_mul(self.size))
            .take(self.size)
            .map(render)
            .collect();
        let mut links = m::Links::new().with("self", self.href(base, query, self.page));
        if total_pages > 1 {
            links.insert("first", self.href(base, query, 0));
            links.insert("last", self.href(base, query, total_pages - 1));
        }
        if self.page > 0 && total_pages > 0 {
            links.insert(
                "prev",
                self.href(base, query, (self.page - 1).min(total_pages - 1)),
            );
        }
        if self.page + 1 < total_pages {
            links.insert("next", self.href(base, query, self.page + 1));
        }
        m::Page::new(
            items,
            links,
            Some(m::PageMeta {
                size: self.size as u64,
                total_elements: total as u64,
                total_pages: total_pages as u64,
                number: self.page as u64,
            }),
        )
    }

    fn href(&self, base: &str, query: &Query, page: usize) -> String {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in query.without(&["page", "size", "sort"]) {
            serializer.append_pair(&key, &value);
        }
        serializer.append_pair("page", &page.to_string());
        serializer.append_pair("size", &self.size.to_string());
        if let Some(sort) = &self.sort {
            let direction = match sort.direction {
                Direction::Asc => "asc",
                Direction::Desc => "desc",
            };
            serializer.append_pair("sort", &format!("{},{direction}", sort.property));
        }
        format!("{base}?{}", serializer.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Debug, Serialize)]
    struct Item(u32);

    impl m::HalCollection for Item {
        const COLLECTION: &'static str = "items";
    }

    #[test]
    fn defaults_and_clamping() {
        let paging = Paging::from_query(&Query::parse(Some("page=-1&size=5000")), 20);
        assert_eq!((paging.page, paging.size), (0, MAX_SIZE));
        let paging = Paging::from_query(&Query::parse(Some("size=0&sort=createdAt,DESC")), 20);
        assert_eq!(paging.size, 20);
        assert_eq!(
            paging.sort.map(|s| (s.property, s.direction)),
            Some(("createdAt".to_owned(), Direction::Desc))
        );
    }

    #[test]
    fn pages_and_links() {
        let query = Query::parse(Some("canceled=false&page=1&size=2"));
        let paging = Paging::from_query(&query, 20);
        let page = paging.page((0..5).map(Item).collect(), "http://x/orders", &query);
        let meta = page.page.unwrap_or_default();
        assert_eq!(
            (meta.total_elements, meta.total_pages, meta.number),
            (5, 3, 1)
        );
        assert_eq!(page.items().len(), 2);
        assert_eq!(
            page.links.href("next"),
            Some("http://x/orders?canceled=false&page=2&size=2")
        );
        assert!(page.links.has("prev") && page.links.has("first") && page.links.has("last"));
        let last = Paging::from_query(&Query::parse(Some("page=2&size=2")), 20).page(
            (0..5).map(Item).collect(),
            "http://x/orders",
            &Query::default(),
        );
        assert!(!last.links.has("next"));
    }

    #[test]
    fn unknown_sort_properties_are_rejected_when_checked() {
        let paging = Paging::from_query(&Query::parse(Some("sort=color,asc")), 20);
        assert!(paging.check_sort("Variations", &["sku"]).is_err());
        assert!(
            Paging::from_query(&Query::default(), 20)
                .check_sort("Variations", &["sku"])
                .is_ok()
        );
    }
}
