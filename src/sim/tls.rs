//! The simulator's HTTPS identity: a CA generated at start-up (its PEM is what `--ca-out`
//! writes, for clients such as MSAL that insist on HTTPS) and a server certificate it signs for
//! `localhost`, the loopback addresses and the listen address.
//!
//! Depends on nothing else in the crate.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The generated CA and the server configuration built on it.
#[derive(Debug)]
pub struct SimTls {
    /// PEM of the CA certificate clients must trust.
    pub ca_pem: String,
    /// The rustls configuration for the HTTPS listener.
    pub server_config: Arc<rustls::ServerConfig>,
}

/// The TLS identity could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Certificate generation failed.
    #[error("cannot generate the simulator's certificates: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls rejected the generated material.
    #[error("cannot configure TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

impl SimTls {
    /// A fresh CA and a server certificate valid for `localhost`, loopback and `extra_ip`.
    pub fn generate(extra_ip: Option<IpAddr>) -> Result<Self, TlsError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let mut ca_name = DistinguishedName::new();
        ca_name.push(DnType::CommonName, "pilotwatch Graph simulator CA");
        ca_params.distinguished_name = ca_name;
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

        let mut names = vec!["localhost".to_owned()];
        let mut ips: Vec<IpAddr> =
            vec![[127, 0, 0, 1].into(), std::net::Ipv6Addr::LOCALHOST.into()];
        if let Some(ip) = extra_ip.filter(|ip| !ip.is_unspecified() && !ips.contains(ip)) {
            ips.push(ip);
        }
        names.extend(ips.iter().map(ToString::to_string));
        let mut leaf_params = CertificateParams::new(Vec::<String>::new())?;
        leaf_params.subject_alt_names = std::iter::once(SanType::DnsName("localhost".try_into()?))
            .chain(ips.into_iter().map(SanType::IpAddress))
            .collect();
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let mut leaf_name = DistinguishedName::new();
        leaf_name.push(DnType::CommonName, "localhost");
        leaf_params.distinguished_name = leaf_name;
        let leaf_key = KeyPair::generate()?;
        let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

        let chain = vec![CertificateDer::from(leaf.der().to_vec()), ca.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            ca_pem: ca.pem(),
            server_config: Arc::new(config),
        })
    }
}
