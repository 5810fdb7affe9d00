//! Bizmoney is whole KRW: an amount is an integer number of won, never a float, and every
//! balance change is one of these.

use std::fmt;
use std::ops::{Add, Neg, Sub};

use serde::{Deserialize, Serialize};

/// An amount of bizmoney in whole won, either sign (a charge, a refund, a balance).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Won(i64);

impl Won {
    pub const ZERO: Won = Won(0);

    pub const fn new(won: i64) -> Won {
        Won(won)
    }

    /// The number of won, for binds and the wire.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Won {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Add for Won {
    type Output = Won;
    fn add(self, other: Won) -> Won {
        Won(self.0 + other.0)
    }
}

impl Sub for Won {
    type Output = Won;
    fn sub(self, other: Won) -> Won {
        Won(self.0 - other.0)
    }
}

impl Neg for Won {
    type Output = Won;
    fn neg(self) -> Won {
        Won(-self.0)
    }
}

impl std::iter::Sum for Won {
    fn sum<I: Iterator<Item = Won>>(iter: I) -> Won {
        Won(iter.map(Won::get).sum())
    }
}
