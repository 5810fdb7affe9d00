//! What `serve` logs: text or JSON lines on stderr (`log_format`, level from `RUST_LOG`) and,
//! in a binary built with `--features otlp`, its spans exported over OTLP/HTTP to
//! `otlp_endpoint`.

use giftbiz_server::Settings;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{fmt, EnvFilter};

/// Holds the span exporter, which must be flushed before the process ends.
pub struct Logging {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Logging {
    /// Exports what is still buffered.
    pub fn finish(self) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider {
            if let Err(e) = provider.shutdown() {
                eprintln!("warning: flushing the OTLP exporter: {e}");
            }
        }
    }
}

/// Log lines only, for the operator commands (they export no spans, whatever `otlp_endpoint`
/// says).
pub fn lines(settings: &Settings, default_level: &str) {
    let settings = Settings { otlp_endpoint: None, ..settings.clone() };
    // A subscriber already installed (never, in one command) keeps its place.
    let _ = init(&settings, default_level);
}

/// Installs the process's subscriber: the lines, and the span exporter when `otlp_endpoint`
/// is set.
pub fn init(settings: &Settings, default_level: &str) -> anyhow::Result<Logging> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let json = settings.log_format == "json";
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with((!json).then(|| fmt::layer().with_writer(std::io::stderr)))
        .with(json.then(|| fmt::layer().json().with_writer(std::io::stderr)));
    #[cfg(feature = "otlp")]
    {
        let (layer, provider) = match &settings.otlp_endpoint {
            Some(endpoint) => {
                let (layer, provider) = otlp(endpoint)?;
                (Some(layer), Some(provider))
            }
            None => (None, None),
        };
        registry.with(layer).try_init()?;
        Ok(Logging { provider })
    }
    #[cfg(not(feature = "otlp"))]
    {
        anyhow::ensure!(
            settings.otlp_endpoint.is_none(),
            "otlp_endpoint is set, but this giftbiz was built without the `otlp` feature (cargo build --features otlp)"
        );
        registry.try_init()?;
        Ok(Logging {})
    }
}

#[cfg(feature = "otlp")]
fn otlp<S>(endpoint: &str) -> anyhow::Result<(impl tracing_subscriber::Layer<S>, opentelemetry_sdk::trace::SdkTracerProvider)>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::{Protocol, WithExportConfig};

    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name("giftbiz").build();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("giftbiz"));
    Ok((layer, provider))
}
