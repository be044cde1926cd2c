//! Property tests of the planners.
