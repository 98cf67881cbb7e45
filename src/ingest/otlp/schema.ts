// The OTLP logs messages Sluice reads and writes, trimmed from
// opentelemetry-proto (logs/v1, common/v1, resource/v1,
// collector/logs/v1) and google/rpc/status.proto, as a protobufjs JSON
// descriptor: no .proto files to ship beside dist/, no code generation step.
// Field numbers are the wire contract; names are camelCase so a decoded
// message has the same keys as OTLP/JSON.
import protobuf from 'protobufjs';

const f = (type: string, id: number, rule?: 'repeated') => (rule ? { type, id, rule } : { type, id });

const root = protobuf.Root.fromJSON({
  nested: {
    otlp: {
      nested: {
        ExportLogsServiceRequest: { fields: { resourceLogs: f('ResourceLogs', 1, 'repeated') } },
        ResourceLogs: { fields: { resource: f('Resource', 1), scopeLogs: f('ScopeLogs', 2, 'repeated'), schemaUrl: f('string', 3) } },
        Resource: { fields: { attributes: f('KeyValue', 1, 'repeated'), droppedAttributesCount: f('uint32', 2) } },
        ScopeLogs: { fields: { scope: f('InstrumentationScope', 1), logRecords: f('LogRecord', 2, 'repeated'), schemaUrl: f('string', 3) } },
        InstrumentationScope: {
          fields: { name: f('string', 1), version: f('string', 2), attributes: f('KeyValue', 3, 'repeated'), droppedAttributesCount: f('uint32', 4) },
        },
        LogRecord: {
          fields: {
            timeUnixNano: f('fixed64', 1),
            // An enum on the wire is a varint; int32 keeps unknown numbers.
            severityNumber: f('int32', 2),
            severityText: f('string', 3),
            body: f('AnyValue', 5),
            attributes: f('KeyValue', 6, 'repeated'),
            droppedAttributesCount: f('uint32', 7),
            flags: f('fixed32', 8),
            traceId: f('bytes', 9),
            spanId: f('bytes', 10),
            observedTimeUnixNano: f('fixed64', 11),
            eventName: f('string', 12),
          },
        },
        AnyValue: {
          oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
          fields: {
            stringValue: f('string', 1),
            boolValue: f('bool', 2),
            intValue: f('int64', 3),
            doubleValue: f('double', 4),
            arrayValue: f('ArrayValue', 5),
            kvlistValue: f('KeyValueList', 6),
            bytesValue: f('bytes', 7),
          },
        },
        ArrayValue: { fields: { values: f('AnyValue', 1, 'repeated') } },
        KeyValueList: { fields: { values: f('KeyValue', 1, 'repeated') } },
        KeyValue: { fields: { key: f('string', 1), value: f('AnyValue', 2) } },
        ExportLogsServiceResponse: { fields: { partialSuccess: f('ExportLogsPartialSuccess', 1) } },
        ExportLogsPartialSuccess: { fields: { rejectedLogRecords: f('int64', 1), errorMessage: f('string', 2) } },
        // google.rpc.Status and the ErrorInfo detail that carries our code.
        Status: { fields: { code: f('int32', 1), message: f('string', 2), details: f('Any', 3, 'repeated') } },
        Any: { fields: { typeUrl: f('string', 1), value: f('bytes', 2) } },
        ErrorInfo: { fields: { reason: f('string', 1), domain: f('string', 2) } },
      },
    },
  },
});

export const ExportLogsServiceRequest = root.lookupType('otlp.ExportLogsServiceRequest');
export const ExportLogsServiceResponse = root.lookupType('otlp.ExportLogsServiceResponse');
export const RpcStatus = root.lookupType('otlp.Status');
export const ErrorInfo = root.lookupType('otlp.ErrorInfo');
