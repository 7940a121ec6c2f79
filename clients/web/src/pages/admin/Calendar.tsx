import { useQuery } from '@tanstack/react-query';
import { Button, Card, DatePicker, Form, Input, InputNumber, Select, Table, Tag } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState } from 'react';

import { api, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { Allowed } from '../../auth/auth';
import { QueryState } from '../../components/QueryState';
import { useI18n } from '../../i18n/I18n';
import type { MessageKey } from '../../i18n/messages';
import { Filters, FormDialog } from './kit';

type Day = components['schemas']['CalendarDayOut'];
type Kind = components['schemas']['CalendarDayIn']['kind'];
const KINDS: { kind: Kind; label: MessageKey }[] = [
  { kind: 'off', label: 'adm.cal.off' },
  { kind: 'work', label: 'adm.cal.work' },
  { kind: 'normal', label: 'adm.cal.normal' },
];

interface Values {
  day: Dayjs;
  kind: Kind;
  name?: string;
}

/** Declare one day off or working (调休), or back to the plain week; deadlines count these (R-SUP-3). */
function SetDay({ initial, onClose }: { initial: Partial<Values>; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <FormDialog<Values>
      title={t('adm.cal.set')}
      invalidate={[['calendar']]}
      onClose={onClose}
      initialValues={initial}
      send={async ({ day, kind, name }) =>
        ok(
          await api.PUT('/api/v1/calendar/{day}', {
            params: { path: { day: day.format('YYYY-MM-DD') } },
            body: { kind, name: name ?? '' },
          }),
        )
      }
    >
      <Form.Item name="day" label={t('adm.cal.day')} rules={[{ required: true }]}>
        <DatePicker />
      </Form.Item>
      <Form.Item name="kind" label={t('adm.cal.kind')} rules={[{ required: true }]}>
        <Select options={KINDS.map((k) => ({ value: k.kind, label: t(k.label) }))} />
      </Form.Item>
      <Form.Item name="name" label={t('adm.name')}>
        <Input />
      </Form.Item>
    </FormDialog>
  );
}

export function Calendar() {
  const { t } = useI18n();
  const [year, setYear] = useState(dayjs().year());
  const [kind, setKind] = useState<Kind | undefined>();
  const [editing, setEditing] = useState<Partial<Values> | null>(null);
  const days = useQuery({
    queryKey: ['calendar', year],
    queryFn: async () => ok(await api.GET('/api/v1/calendar', { params: { query: { year } } })),
  });
  const label = (k: string) => t(KINDS.find((entry) => entry.kind === k)?.label ?? 'adm.cal.normal');
  return (
    <Card
      title={t('menu.adm.calendar')}
      extra={
        <Allowed permission="setting:write">
          <Button type="primary" onClick={() => setEditing({ kind: 'off' })} data-testid="set-day">
            {t('adm.cal.set')}
          </Button>
        </Allowed>
      }
    >
      <Filters>
        <InputNumber value={year} min={2000} max={2100} onChange={(v) => v && setYear(v)} addonBefore={t('adm.cal.year')} />
        <Select value={kind} onChange={setKind} allowClear style={{ width: 160 }} placeholder={t('adm.cal.kind')}
          options={KINDS.filter((k) => k.kind !== 'normal').map((k) => ({ value: k.kind, label: t(k.label) }))} />
      </Filters>
      <QueryState query={days} isEmpty={(data) => data.length === 0}>
        {(data) => (
          <Table<Day>
            rowKey="day"
            size="middle"
            pagination={false}
            data-testid="calendar-list"
            dataSource={data.filter((d) => !kind || d.kind === kind)}
            columns={[
              { title: t('adm.cal.day'), dataIndex: 'day' },
              { title: t('adm.cal.kind'), dataIndex: 'kind', render: (k: string) => <Tag color={k === 'off' ? 'green' : 'orange'}>{label(k)}</Tag> },
              { title: t('adm.name'), dataIndex: 'name' },
              { title: t('adm.cal.source'), dataIndex: 'source' },
              {
                title: '',
                render: (_, d) => (
                  <Allowed permission="setting:write">
                    <Button size="small" onClick={() => setEditing({ day: dayjs(d.day), kind: d.kind, name: d.name })}>
                      {t('adm.edit')}
                    </Button>
                  </Allowed>
                ),
              },
            ]}
          />
        )}
      </QueryState>
      {editing && <SetDay initial={editing} onClose={() => setEditing(null)} />}
    </Card>
  );
}
