//! Message heads: finding them in the input ([`scan`]), parsing them into
//! `http` types ([`parse`]), the fields that govern framing ([`fields`]),
//! and writing them ([`encode`]).

pub(crate) mod encode;
pub(crate) mod fields;
pub(crate) mod parse;
pub(crate) mod scan;
