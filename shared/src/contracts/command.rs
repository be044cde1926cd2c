//! Commands Afosto sends to be applied to an ePages shop.
