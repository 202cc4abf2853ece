//! One module per plugin language.

pub(crate) mod go;
pub(crate) mod rust;
pub(crate) mod tinygo;
