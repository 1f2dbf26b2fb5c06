//! The parts of TensorFlow's `Event` protocol buffer (`tensorflow/core/util/event.proto`,
//! `summary.proto`, `tensor.proto`, `tensor_shape.proto`) that scalar summaries use, as
//! `prost`-derived messages: no generated code, no `protoc`. Fields and `oneof` cases not
//! declared here are skipped by the decoder as unknown fields.

/// `tensorflow.Event`: one record of an event file.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event holds.
    #[prost(oneof = "What", tags = "3, 5")]
    pub what: Option<What>,
}

/// `Event.what`: the cases a scalar reader needs.
#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum What {
    /// The file's first event: `brain.Event:2`.
    #[prost(string, tag = "3")]
    FileVersion(String),
    /// Summary values.
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct SummaryValue {
    /// The tag (`eval/loss`).
    #[prost(string, tag = "1")]
    pub tag: String,
    /// The value.
    #[prost(oneof = "Value", tags = "2, 8")]
    pub value: Option<Value>,
}

/// `Summary.Value.value`: a scalar as PyTorch and TF1 write it, or a tensor (TF2, Keras).
#[derive(Clone, PartialEq, prost::Oneof)]
pub(crate) enum Value {
    /// `simple_value`.
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    /// `tensor`.
    #[prost(message, tag = "8")]
    Tensor(TensorProto),
}

/// `tensorflow.DataType.DT_FLOAT`.
pub(crate) const DT_FLOAT: i32 = 1;
/// `tensorflow.DataType.DT_DOUBLE`.
pub(crate) const DT_DOUBLE: i32 = 2;

/// `tensorflow.TensorProto` (the fields a scalar uses).
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TensorProto {
    /// `DataType` as its number.
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    /// The shape (absent or no dimensions: a scalar).
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    /// Raw little-endian content.
    #[prost(bytes = "vec", tag = "4")]
    pub tensor_content: Vec<u8>,
    /// `float_val`.
    #[prost(float, repeated, tag = "5")]
    pub float_val: Vec<f32>,
    /// `double_val`.
    #[prost(double, repeated, tag = "6")]
    pub double_val: Vec<f64>,
}

/// `tensorflow.TensorShapeProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct TensorShapeProto {
    /// The dimensions.
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<Dim>,
}

/// `TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Dim {
    /// Its size.
    #[prost(int64, tag = "1")]
    pub size: i64,
}
