//! One macro for every Beyond enum. Beyond adds enum values without a version bump
//! (beyond-api.md §2 "Versioning"), so an unknown value must never fail a parse: it lands
//! in `Other(String)` and serializes back byte for byte.

/// Declares an enum whose known variants map to fixed wire strings and whose unknown
/// values are kept verbatim in `Other(String)`.
macro_rules! lenient_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this client does not know yet, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every value this client knows, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The exact wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(other) => other.as_str(),
                }
            }

            /// `false` for values that landed in `Other`.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(wire: &str) -> Self {
                match wire {
                    $( $wire => $name::$variant, )+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl ::std::convert::From<String> for $name {
            fn from(wire: String) -> Self {
                match wire.as_str() {
                    $( $wire => $name::$variant, )+
                    _ => $name::Other(wire),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(wire: &str) -> Result<Self, Self::Err> {
                Ok($name::from(wire))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let wire = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::from(wire.into_owned()))
            }
        }
    };
}

pub(crate) use lenient_enum;

#[cfg(test)]
mod tests {
    lenient_enum! {
        /// A test enum.
        pub enum Colour {
            Red => "RED",
            LightBlue => "LIGHT_BLUE",
        }
    }

    #[test]
    fn known_values_round_trip() {
        let parsed: Colour = serde_json::from_str("\"LIGHT_BLUE\"").unwrap();
        assert_eq!(parsed, Colour::LightBlue);
        assert_eq!(serde_json::to_string(&parsed).unwrap(), "\"LIGHT_BLUE\"");
        assert!(parsed.is_known());
        assert_eq!(Colour::KNOWN.len(), 2);
    }

    #[test]
    fn unknown_values_are_kept_verbatim() {
        let parsed: Colour = serde_json::from_str("\"ULTRA_VIOLET\"").unwrap();
        assert_eq!(parsed, Colour::Other("ULTRA_VIOLET".into()));
        assert!(!parsed.is_known());
        assert_eq!(serde_json::to_string(&parsed).unwrap(), "\"ULTRA_VIOLET\"");
        assert_eq!(parsed.to_string(), "ULTRA_VIOLET");
    }

    #[test]
    fn non_strings_are_rejected() {
        assert!(serde_json::from_str::<Colour>("3").is_err());
    }
}
