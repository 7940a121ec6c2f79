import { useQuery } from '@tanstack/react-query';
import { Card, Descriptions, Drawer, Empty, Input, List, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';

import { api, ok } from '../../api/client';
import type { components } from '../../api/schema';
import { PagedTable, usePaged } from '../../components/Paged';
import { QueryState } from '../../components/QueryState';
import { RecordFields } from '../../components/RecordFields';
import { useI18n } from '../../i18n/I18n';

type Address = components['schemas']['AddressOut'];
type Room = components['schemas']['RoomOut'];
type Resident = components['schemas']['ResidentOut'];

// 以房找人 (R-MAP-3): a standard address (building) → its rooms → the people living there,
// every personal field as the server returns it for the caller (masked without pii:read).

function ResidentDrawer({ resident, onClose }: { resident: Resident; onClose: () => void }) {
  const person = useQuery({
    queryKey: ['people', 'one', resident.id],
    queryFn: async () => ok(await api.GET('/api/v1/people/{person_id}', { params: { path: { person_id: resident.id } } })),
  });
  return (
    <Drawer open onClose={onClose} width={520} title={resident.name} data-testid="resident-detail">
      <QueryState query={person}>{(record) => <RecordFields record={record} />}</QueryState>
    </Drawer>
  );
}

function Residents({ room, onPick }: { room: Room; onPick: (resident: Resident) => void }) {
  const { t } = useI18n();
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      {room.residents.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('bld.noResidents')} />
      ) : (
        <Table<Resident>
          size="small"
          rowKey="id"
          pagination={false}
          dataSource={room.residents}
          data-testid="residents"
          title={() => t('bld.residents')}
          onRow={(resident) => ({ onClick: () => onPick(resident), style: { cursor: 'pointer' } })}
          columns={[
            { title: t('people.name'), dataIndex: 'name' },
            { title: t('bld.gender'), dataIndex: 'gender' },
            { title: t('people.kind'), dataIndex: 'kind' },
            { title: t('people.idNumber'), dataIndex: 'id_number' },
            { title: t('people.phone'), dataIndex: 'phone' },
          ]}
        />
      )}
      {room.rentals.length > 0 && (
        <List
          size="small"
          header={t('bld.rentals')}
          dataSource={room.rentals}
          renderItem={(rental) => (
            <List.Item>
              {t('bld.landlord')}: {rental.landlord_name} · {rental.landlord_phone ?? '—'} <Tag>{rental.status}</Tag>
            </List.Item>
          )}
        />
      )}
    </Space>
  );
}

function BuildingDrawer({ address, onClose }: { address: Address; onClose: () => void }) {
  const { t } = useI18n();
  const [resident, setResident] = useState<Resident | null>(null);
  const rooms = usePaged<Room>(['building', address.id], async (cursor) => {
    const view = ok(await api.GET('/api/v1/addresses/{address_id}/building', {
      params: { path: { address_id: address.id }, query: { cursor, limit: 50 } },
    }));
    return view.rooms;
  });
  return (
    <Drawer open onClose={onClose} width={980} title={address.full_text} data-testid="building-detail">
      <Descriptions size="small" column={3} bordered style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('bld.road')}>{address.road ?? '—'}</Descriptions.Item>
        <Descriptions.Item label={t('bld.building')}>{address.building ?? '—'}</Descriptions.Item>
        <Descriptions.Item label={t('bld.rooms')}>{rooms.total ?? '…'}</Descriptions.Item>
      </Descriptions>
      <PagedTable<Room>
        paged={rooms}
        rowKey="id"
        data-testid="rooms"
        expandable={{ expandRowByClick: true, expandedRowRender: (room) => <Residents room={room} onPick={setResident} /> }}
        columns={[
          { title: t('bld.unitNo'), dataIndex: 'unit_no', render: (v: string | null) => v ?? '—' },
          { title: t('bld.room'), dataIndex: 'room', render: (v: string | null) => v ?? '—' },
          { title: t('bld.owner'), dataIndex: 'owner_name', render: (v: string | null) => v ?? '—' },
          { title: t('bld.ownerPhone'), dataIndex: 'owner_phone', render: (v: string | null) => v ?? '—' },
          { title: t('bld.residents'), render: (_, room) => room.residents.length },
          { title: t('bld.rentals'), render: (_, room) => (room.rentals.length ? <Tag color="orange">{room.rentals.length}</Tag> : '—') },
        ]}
      />
      {resident && <ResidentDrawer resident={resident} onClose={() => setResident(null)} />}
    </Drawer>
  );
}

export function Buildings() {
  const { t } = useI18n();
  const [q, setQ] = useState('');
  const [status, setStatus] = useState<'active' | 'deregistered' | undefined>('active');
  const [shown, setShown] = useState<Address | null>(null);
  const addresses = usePaged<Address>(['addresses', q, status], async (cursor) =>
    ok(await api.GET('/api/v1/addresses', { params: { query: { q: q || undefined, status, cursor, limit: 50 } } })),
  );
  return (
    <Card title={t('menu.buildings')}>
      <Space style={{ marginBottom: 16 }}>
        <Input.Search placeholder={t('common.search')} allowClear onSearch={setQ} style={{ width: 280 }} />
        <Select value={status} onChange={setStatus} allowClear style={{ width: 160 }} placeholder={t('people.status')}
          options={[{ value: 'active', label: 'active' }, { value: 'deregistered', label: 'deregistered' }]} />
        {addresses.total !== undefined && <Typography.Text type="secondary">{addresses.total}</Typography.Text>}
      </Space>
      <PagedTable<Address>
        paged={addresses}
        rowKey="id"
        data-testid="addresses"
        onRow={(address) => ({ onClick: () => setShown(address), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('bld.address'), dataIndex: 'full_text' },
          { title: t('bld.road'), dataIndex: 'road', render: (v: string | null) => v ?? '—' },
          { title: t('bld.building'), dataIndex: 'building', render: (v: string | null) => v ?? '—' },
          { title: t('people.status'), dataIndex: 'status', render: (v: string) => <Tag>{v}</Tag> },
        ]}
      />
      {shown && <BuildingDrawer key={shown.id} address={shown} onClose={() => setShown(null)} />}
    </Card>
  );
}
