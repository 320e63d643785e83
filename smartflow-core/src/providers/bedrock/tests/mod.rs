//! Tests of the Bedrock provider: SigV4 against AWS's published vectors, and the provider
//! against a local HTTP server that checks each request's signature and answers in Converse.

mod provider;
mod sigv4;
