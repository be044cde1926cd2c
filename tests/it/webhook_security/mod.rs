//! Issue 13, part B: the public endpoints' checks. ePages webhooks (replays, stale
//! uninstalls, one answer for unknown tenants and bad signatures, a cap on signature
//! values), the install callback (tenant ids, hosts, signatures, pauses) and Afosto
//! webhooks (signatures, the tenant directory, no secret read for unmapped tenants).

mod afosto;
mod epages;
mod install;
