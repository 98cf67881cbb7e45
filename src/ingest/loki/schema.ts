// logproto.PushRequest, trimmed from grafana/loki pkg/push/push.proto, as a
// protobufjs JSON descriptor (nothing to ship beside dist/). Only the field
// numbers matter on the wire.
import protobuf from 'protobufjs';

const f = (type: string, id: number, rule?: 'repeated') => (rule ? { type, id, rule } : { type, id });

const root = protobuf.Root.fromJSON({
  nested: {
    logproto: {
      nested: {
        PushRequest: { fields: { streams: f('StreamAdapter', 1, 'repeated') } },
        StreamAdapter: { fields: { labels: f('string', 1), entries: f('EntryAdapter', 2, 'repeated'), hash: f('uint64', 3) } },
        EntryAdapter: {
          fields: { timestamp: f('Timestamp', 1), line: f('string', 2), structuredMetadata: f('LabelPairAdapter', 3, 'repeated') },
        },
        LabelPairAdapter: { fields: { name: f('string', 1), value: f('string', 2) } },
        // google.protobuf.Timestamp
        Timestamp: { fields: { seconds: f('int64', 1), nanos: f('int32', 2) } },
      },
    },
  },
});

export const PushRequest = root.lookupType('logproto.PushRequest');
