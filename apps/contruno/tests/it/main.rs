//! contruno end to end, with real peers: git daemon for the routes
//! repository, curl as the client, backends on paf.

mod acme;
mod proxy;
mod support;
