//! Row ids the store hands out. Only the store makes one (from the row it read or wrote), so an
//! id a caller holds names a row that exists, and an account's id cannot be passed where a
//! partner's is meant.

macro_rules! stored_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// For the store, from the id of a row it read or wrote.
            pub fn from_stored(id: i64) -> $name {
                $name(id)
            }

            /// For the store's binds.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

stored_id!(
    /// An account's (구매사) id.
    AccountId
);
stored_id!(
    /// A partner's (교환처) id.
    PartnerId
);
stored_id!(
    /// A console operator's id (the platform's staff, not an account).
    OperatorId
);
