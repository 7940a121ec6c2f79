import { Descriptions } from 'antd';

/** A record's plain fields as the server returned them (masked values stay masked). */
export function RecordFields({ record }: { record: object }) {
  return (
    <Descriptions column={1} bordered size="small">
      {Object.entries(record)
        .filter(([, value]) => value !== null && typeof value !== 'object')
        .map(([key, value]) => (
          <Descriptions.Item key={key} label={key}>
            {String(value)}
          </Descriptions.Item>
        ))}
    </Descriptions>
  );
}
