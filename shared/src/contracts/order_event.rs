//! Order events emitted for Afosto from what ePages shows.
