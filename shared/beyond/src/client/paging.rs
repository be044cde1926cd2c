//! Paging to the real end of a Beyond list.
//!
//! Beyond pages by offset (`page`, `size`), so a list that changes while it is read can
//! shift items across page boundaries: an insert before the read position makes an item
//! appear twice, a delete (or an update that moves an item under the chosen sort) can
//! make one item slip onto an already-read page and be missed. The pager therefore
//!
//! - re-reads `page.totalPages` on every page and keeps going while it says more exists,
//!   even after a short or empty page, and also follows a `next` link;
//! - de-duplicates by `_id` (the later copy wins: it is the fresher one);
//! - reports `changed_during_paging` when it saw a duplicate, a changed `totalElements`,
//!   or ended with a different number of items than the server announced.
//!
//! When the flag is set, an item may have been missed: callers that must see everything
//! (a polling backstop) should keep their cursor where it was and read again.

use std::collections::HashMap;
use std::future::Future;

use uuid::Uuid;

use crate::error::BeyondError;
use crate::model::Page;

/// A guard against a server that never stops announcing pages.
pub const MAX_PAGES: u64 = 10_000;

/// Every item of a list, read page by page.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// HTTP pages read.
    pub pages_fetched: u64,
    /// The list changed while it was read; see the module docs.
    pub changed_during_paging: bool,
}

/// Reads pages `first_page, first_page + 1, …` with `fetch` until the server says there
/// are no more.
pub(crate) async fn collect_pages<T, F, Fut>(
    operation: &'static str,
    first_page: u64,
    id_of: impl Fn(&T) -> Uuid,
    mut fetch: F,
) -> Result<Listing<T>, BeyondError>
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<Page<T>, BeyondError>>,
{
    let mut items: Vec<T> = Vec::new();
    let mut position: HashMap<Uuid, usize> = HashMap::new();
    let mut changed = false;
    let mut announced_total: Option<u64> = None;
    let mut page_number = first_page;
    let mut pages_fetched = 0u64;
    loop {
        if pages_fetched >= MAX_PAGES {
            return Err(BeyondError::PagingRunaway {
                operation,
                pages: pages_fetched,
            });
        }
        let page = fetch(page_number).await?;
        pages_fetched += 1;
        let meta = page.page;
        let has_next_link = page.next_href().is_some();
        for item in page.into_items() {
            let id = id_of(&item);
            match position.get(&id) {
                Some(&index) => {
                    items[index] = item;
                    changed = true;
                }
                None => {
                    position.insert(id, items.len());
                    items.push(item);
                }
            }
        }
        let more = match meta {
            Some(meta) => {
                match announced_total {
                    None => announced_total = Some(meta.total_elements),
                    Some(total) if total != meta.total_elements => {
                        changed = true;
                        announced_total = Some(meta.total_elements);
                    }
                    Some(_) => {}
                }
                page_number.saturating_add(1) < meta.total_pages || has_next_link
            }
            None => has_next_link,
        };
        if !more {
            break;
        }
        page_number = page_number.saturating_add(1);
    }
    if first_page == 0
        && let Some(total) = announced_total
        && u64::try_from(items.len()).unwrap_or(u64::MAX) != total
    {
        changed = true;
    }
    Ok(Listing {
        items,
        pages_fetched,
        changed_during_paging: changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HalCollection, Links, PageMeta};
    use std::sync::Mutex;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Item(Uuid);

    impl HalCollection for Item {
        const COLLECTION: &'static str = "items";
    }

    fn item(n: u128) -> Item {
        Item(Uuid::from_u128(n))
    }

    fn page(items: Vec<Item>, number: u64, total_pages: u64, total: u64) -> Page<Item> {
        Page::new(
            items,
            Links::new(),
            Some(PageMeta {
                size: 2,
                total_elements: total,
                total_pages,
                number,
            }),
        )
    }

    /// Serves canned pages and records which page numbers were asked for.
    async fn run(pages: Vec<Page<Item>>) -> (Listing<Item>, Vec<u64>) {
        let asked = Mutex::new(Vec::new());
        let listing = collect_pages(
            "test",
            0,
            |i: &Item| i.0,
            |n| {
                asked.lock().unwrap().push(n);
                let answer = pages
                    .get(usize::try_from(n).unwrap())
                    .cloned()
                    .unwrap_or_else(|| page(vec![], n, 0, 0));
                async move { Ok(answer) }
            },
        )
        .await
        .unwrap();
        (listing, asked.into_inner().unwrap())
    }

    #[tokio::test]
    async fn follows_total_pages_to_the_end() {
        let (listing, asked) = run(vec![
            page(vec![item(1), item(2)], 0, 3, 5),
            page(vec![item(3), item(4)], 1, 3, 5),
            page(vec![item(5)], 2, 3, 5),
        ])
        .await;
        assert_eq!(asked, vec![0, 1, 2]);
        assert_eq!(listing.items.len(), 5);
        assert!(!listing.changed_during_paging);
    }

    #[tokio::test]
    async fn a_short_page_does_not_stop_paging_while_more_is_announced() {
        let (listing, asked) = run(vec![
            page(vec![item(1), item(2)], 0, 3, 6),
            page(vec![item(3)], 1, 3, 6),
            page(vec![item(4), item(5)], 2, 3, 6),
        ])
        .await;
        assert_eq!(asked, vec![0, 1, 2]);
        assert_eq!(listing.items.len(), 5);
        assert!(
            listing.changed_during_paging,
            "5 items where 6 were announced"
        );
    }

    #[tokio::test]
    async fn growth_during_paging_is_followed_and_duplicates_are_merged() {
        let (listing, asked) = run(vec![
            page(vec![item(1), item(2)], 0, 2, 4),
            // An insert at the front pushed item 2 onto page 1 and added a page.
            page(vec![item(2), item(3)], 1, 3, 5),
            page(vec![item(4)], 2, 3, 5),
        ])
        .await;
        assert_eq!(asked, vec![0, 1, 2]);
        assert_eq!(listing.items, vec![item(1), item(2), item(3), item(4)]);
        assert!(listing.changed_during_paging);
    }

    #[tokio::test]
    async fn unpaged_lists_are_read_once_and_next_links_are_followed() {
        let (listing, asked) = run(vec![Page::new(vec![item(1)], Links::new(), None)]).await;
        assert_eq!((asked, listing.items.len()), (vec![0], 1));

        let with_next = Page::new(vec![item(1)], Links::new().with("next", "/x?page=1"), None);
        let last = Page::new(vec![item(2)], Links::new(), None);
        let (listing, asked) = run(vec![with_next, last]).await;
        assert_eq!((asked, listing.items.len()), (vec![0, 1], 2));
    }

    #[tokio::test]
    async fn a_server_that_never_ends_is_an_error() {
        let result = collect_pages(
            "test",
            0,
            |i: &Item| i.0,
            |n| async move { Ok(page(vec![item(u128::from(n))], n, u64::MAX, u64::MAX)) },
        )
        .await;
        assert!(matches!(
            result,
            Err(BeyondError::PagingRunaway {
                pages: MAX_PAGES,
                ..
            })
        ));
    }
}
