//! One module per plugin language.

pub(crate) mod rust;
