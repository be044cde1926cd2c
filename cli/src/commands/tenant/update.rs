//! `tenant update`: the settings `add` takes, applied to the stored tenant with the same
//! validation, in one conditional write (read again and re-applied when another writer got
//! there first).

use chrono::{DateTime, Utc};
use connector::ports::tenants::UpdateOutcome;
use domain::tenant::{PaymentStatusFilter, TenantConfig};

use super::{Failure, UpdateArgs, Usage, client_id, get, print, tenant_id};
use crate::backend::Backend;

pub async fn run(
    backend: &Backend,
    update: &UpdateArgs,
    now: DateTime<Utc>,
    json: bool,
) -> Result<(), Failure> {
    let id = tenant_id(&update.tenant)?;
    let settings = &update.settings;
    if !settings.any()
        && update.client_id.is_none()
        && update.remove_location.is_empty()
        && !update.no_afosto_tenant
    {
        return Err(Usage(
            "nothing to update: give at least one setting (see `epages-sync tenant update --help`)"
                .into(),
        )
        .into());
    }
    let stores = &backend.stores;
    let mut current = get(stores, &update.tenant).await?;
    let change = |config: &mut TenantConfig| -> Result<(), Failure> {
        settings.apply(config, now)?;
        if let Some(raw) = &update.client_id {
            config.client_id = client_id(raw)?;
        }
        for location in &update.remove_location {
            let before = config.locations.len();
            config
                .locations
                .retain(|m| m.afosto_location_id != *location);
            if config.locations.len() == before {
                return Err(Usage(format!(
                    "--remove-location {location:?}: tenant {} maps no such location",
                    config.id
                ))
                .into());
            }
        }
        if update.no_afosto_tenant {
            config.afosto_tenant = None;
        }
        Ok(())
    };
    // Everything is checked before anything is written.
    change(&mut current.clone())?;
    let secret = settings.read_secret()?;
    let rotating = secret.is_some();
    if rotating && current.client_secret != backend.secrets.tenant_client_secret(&id) {
        return Err(Usage(format!(
            "tenant {id} uses the public app's client secret, shared by its tenants: rotate it \
             where the app is configured, not per tenant"
        ))
        .into());
    }
    if let Some(secret) = secret {
        stores.secrets.put(&current.client_secret, secret).await?;
    }
    for _ in 0..5 {
        let before = current.clone();
        let mut next = current.clone();
        change(&mut next)?;
        match stores.tenants.update(next, now).await? {
            UpdateOutcome::Updated(updated) => {
                if rotating || before.client_id != updated.client_id {
                    // The cached token was obtained with the old credentials: the next
                    // call must use (and so check) the new ones.
                    stores.tokens.delete(&id).await?;
                }
                let mut changed = changed_fields(&before, &updated)?;
                if rotating {
                    changed.push("client_secret".to_owned());
                }
                let mut human = format!(
                    "updated tenant {id}: {}",
                    if changed.is_empty() {
                        "nothing changed".to_owned()
                    } else {
                        changed.join(", ")
                    }
                );
                if reads_more(&before, &updated) {
                    human.push_str(&format!(
                        "\norders the tenant now takes in that polls already read are taken \
                         when they next change; to read them now: `epages-sync resync \
                         --tenant {id} --since {}`",
                        updated.sync_start.format("%Y-%m-%d")
                    ));
                }
                if rotating || changed.iter().any(|c| c == "client_id") {
                    human.push_str(&format!(
                        "\ncheck the new credentials: `epages-sync tenant verify {id}`"
                    ));
                }
                print(
                    json,
                    &serde_json::json!({ "updated": updated, "changed": changed }),
                    &human,
                );
                return Ok(());
            }
            UpdateOutcome::Stale { current: latest } => current = latest,
            UpdateOutcome::NotFound => return Err(Usage(format!("no tenant {id}")).into()),
        }
    }
    Err("the tenant kept changing; try again".into())
}

/// Whether the change takes in orders the polls so far left out (an earlier start date, a
/// wider payment filter, test orders): the cursor is past them, so only a resync reads them
/// before they change again.
fn reads_more(before: &TenantConfig, after: &TenantConfig) -> bool {
    after.sync_start < before.sync_start
        || (after.include_test_orders && !before.include_test_orders)
        || (after.payment_filter != before.payment_filter
            && after.payment_filter != PaymentStatusFilter::PaidOnly)
        || (after.flows.orders && !before.flows.orders)
}

/// The configuration fields whose values differ (the store's own bookkeeping left out).
fn changed_fields(before: &TenantConfig, after: &TenantConfig) -> Result<Vec<String>, Failure> {
    let (before, after) = (serde_json::to_value(before)?, serde_json::to_value(after)?);
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else {
        return Ok(Vec::new());
    };
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    Ok(keys
        .into_iter()
        .filter(|key| !matches!(key.as_str(), "version" | "updated_at"))
        .filter(|key| before.get(*key) != after.get(*key))
        .cloned()
        .collect())
}
