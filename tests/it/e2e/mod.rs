//! End to end across the pipelines, on both state backends.

mod webhook_to_event;
