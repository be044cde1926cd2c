//! Test support lives in `it/`; this library is empty on purpose.
