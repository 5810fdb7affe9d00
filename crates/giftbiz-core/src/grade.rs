use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Won;

/// An account's grade; it picks the price the account pays for every goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    Basic,
    Gold,
    Vip,
    Platinum,
}

impl Grade {
    pub const ALL: [Grade; 4] = [Grade::Basic, Grade::Gold, Grade::Vip, Grade::Platinum];

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Basic => "basic",
            Grade::Gold => "gold",
            Grade::Vip => "vip",
            Grade::Platinum => "platinum",
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown grade {0:?} (expected basic, gold, vip or platinum)")]
pub struct UnknownGrade(pub String);

impl FromStr for Grade {
    type Err = UnknownGrade;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Grade::ALL
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownGrade(s.to_owned()))
    }
}

/// One grade's price (whole KRW) and its discount rate (percent of the sale price).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradePrice {
    pub price: Won,
    pub rate: i64,
}

impl GradePrice {
    /// The grade price for `rate` percent off `sale_price`, rounded to 10 won as the live
    /// catalog does (800 at 9 % → 730, at 11 % → 710).
    pub fn discounted(sale_price: Won, rate: i64) -> GradePrice {
        let exact_times_100 = sale_price.get() * (100 - rate);
        let price = (exact_times_100 + 500) / 1000 * 10;
        GradePrice { price: Won::new(price), rate }
    }
}

/// Every grade's price of one goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradePrices {
    pub basic: GradePrice,
    pub gold: GradePrice,
    pub vip: GradePrice,
    pub platinum: GradePrice,
}

impl GradePrices {
    /// The standard rate table: 6-12 % off general goods, 1-2 % off cash-like vouchers.
    pub fn standard(sale_price: Won, voucher: bool) -> GradePrices {
        let rates = if voucher { [1, 1, 2, 2] } else { [6, 8, 10, 12] };
        GradePrices {
            basic: GradePrice::discounted(sale_price, rates[0]),
            gold: GradePrice::discounted(sale_price, rates[1]),
            vip: GradePrice::discounted(sale_price, rates[2]),
            platinum: GradePrice::discounted(sale_price, rates[3]),
        }
    }

    pub fn for_grade(&self, grade: Grade) -> GradePrice {
        match grade {
            Grade::Basic => self.basic,
            Grade::Gold => self.gold,
            Grade::Vip => self.vip,
            Grade::Platinum => self.platinum,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_matches_the_spec_example() {
        assert_eq!(GradePrice::discounted(Won::new(800), 6).price, Won::new(750));
        assert_eq!(GradePrice::discounted(Won::new(800), 9).price, Won::new(730));
        assert_eq!(GradePrice::discounted(Won::new(800), 11).price, Won::new(710));
        assert_eq!(GradePrice::discounted(Won::new(50_000), 1).price, Won::new(49_500));
    }

    #[test]
    fn grades_parse_case_insensitively_and_reject_others() {
        assert_eq!("VIP".parse::<Grade>().unwrap(), Grade::Vip);
        assert!("diamond".parse::<Grade>().is_err());
    }
}
