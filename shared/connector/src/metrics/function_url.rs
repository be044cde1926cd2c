//! Counting for the Function URL functions (`afosto-webhook`, `epages-webhook`,
//! `install-app`) from the answer they give: the status code and the `status` /
//! `outcome` member their handlers put in the JSON body. Their handlers take no collector
//! (yet), and the answer is the one place that states what was done.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlResponse;

use super::{Metric, Metrics};

/// 4xx → `RequestsRejected`, 5xx → `RequestsFailed`. Returns whether the answer was a
/// success (2xx or a redirect).
fn count_status(metrics: &Metrics, response: &LambdaFunctionUrlResponse) -> bool {
    match response.status_code {
        400..=499 => {
            metrics.incr(Metric::RequestsRejected);
            false
        }
        500..=599 => {
            metrics.incr(Metric::RequestsFailed);
            false
        }
        _ => true,
    }
}

fn body_member(response: &LambdaFunctionUrlResponse, member: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(response.body.as_deref()?).ok()?;
    body.get(member)?.as_str().map(str::to_owned)
}

/// `afosto-webhook`: `accepted` put one command on the command queue; `duplicate` was a
/// repeat of a delivery already handled.
pub fn count_afosto_webhook(metrics: &Metrics, response: &LambdaFunctionUrlResponse) {
    if !count_status(metrics, response) {
        return;
    }
    match body_member(response, "status").as_deref() {
        Some("accepted") => metrics.incr(Metric::CommandsEnqueued),
        Some("duplicate") => metrics.incr(Metric::WebhooksDuplicate),
        _ => {}
    }
}

/// `epages-webhook`: `order_read_requested` / `order_read_scheduled` / `poll_scheduled` put
/// one poll request on the poll queue; `deduplicated` found everything the delivery could
/// ask for in its window already requested.
pub fn count_epages_webhook(metrics: &Metrics, response: &LambdaFunctionUrlResponse) {
    if !count_status(metrics, response) {
        return;
    }
    match body_member(response, "outcome").as_deref() {
        Some("order_read_requested" | "order_read_scheduled" | "poll_scheduled") => {
            metrics.incr(Metric::PollRequestsEnqueued)
        }
        Some("deduplicated" | "duplicate") => metrics.incr(Metric::WebhooksDuplicate),
        Some("uninstalled") => metrics.incr(Metric::AppsUninstalled),
        _ => {}
    }
}

/// `install-app`: the redirect back to the shop means the install completed.
pub fn count_install(metrics: &Metrics, response: &LambdaFunctionUrlResponse) {
    if count_status(metrics, response) && (300..400).contains(&response.status_code) {
        metrics.incr(Metric::AppsInstalled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: i64, body: Option<&str>) -> LambdaFunctionUrlResponse {
        let mut response = LambdaFunctionUrlResponse::default();
        response.status_code = status;
        response.body = body.map(str::to_owned);
        response
    }

    #[test]
    fn answers_map_to_counters() {
        let metrics = Metrics::new();
        count_afosto_webhook(&metrics, &response(200, Some(r#"{"status":"accepted"}"#)));
        count_afosto_webhook(&metrics, &response(200, Some(r#"{"status":"duplicate"}"#)));
        count_afosto_webhook(&metrics, &response(401, None));
        count_epages_webhook(
            &metrics,
            &response(200, Some(r#"{"outcome":"poll_scheduled"}"#)),
        );
        count_epages_webhook(&metrics, &response(503, Some(r#"{"error":"x"}"#)));
        count_install(&metrics, &response(302, None));
        let totals = metrics.snapshot();
        assert_eq!(totals.get(Metric::CommandsEnqueued), 1);
        assert_eq!(totals.get(Metric::WebhooksDuplicate), 1);
        assert_eq!(totals.get(Metric::RequestsRejected), 1);
        assert_eq!(totals.get(Metric::PollRequestsEnqueued), 1);
        assert_eq!(totals.get(Metric::RequestsFailed), 1);
        assert_eq!(totals.get(Metric::AppsInstalled), 1);
    }
}
