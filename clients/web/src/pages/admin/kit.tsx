// The pieces every administration page is built from: a cursor-paged table, a detail drawer
// and a form dialog that puts the server's field errors on its fields.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type QueryKey } from '@tanstack/react-query';
import { Alert, Button, Descriptions, Drawer, Form, Modal, Space, Table, type FormInstance, type TableColumnsType } from 'antd';
import { useState, type ReactNode } from 'react';

import { api, ok } from '../../api/client';
import { Allowed } from '../../auth/auth';
import { UnitPicker } from '../../components/Pickers';
import { showServerErrors } from '../../components/forms';
import { useI18n } from '../../i18n/I18n';
import type { MessageKey } from '../../i18n/messages';

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
  total?: number | null;
}

/** The If-Match header for a row read at `version` (API.md optimistic concurrency). */
export function ifMatch(version: number): Record<string, string> {
  return { 'If-Match': `"${version}"` };
}

/** An instant as "YYYY-MM-DD HH:mm" in the server's notation. */
export function when(value: string | null | undefined): string {
  return value ? value.slice(0, 16).replace('T', ' ') : '—';
}

/** Form values without the fields left empty, so PATCH changes only what was filled in. */
export function filled(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== null && v !== ''));
}

/** A list paged by cursor (API.md): the filters are part of the key, so changing one reloads. */
export function usePaged<T>(key: QueryKey, load: (cursor: string | undefined) => Promise<Page<T>>) {
  return useInfiniteQuery({
    queryKey: key,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => load(pageParam),
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
}

export function PagedTable<T extends object>({
  list,
  columns,
  rowKey,
  testId,
  onOpen,
  expandable,
}: {
  list: ReturnType<typeof usePaged<T>>;
  columns: TableColumnsType<T>;
  rowKey: keyof T & string;
  testId: string;
  onOpen?: (row: T) => void;
  expandable?: (row: T) => ReactNode;
}) {
  const { t } = useI18n();
  const rows = list.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      <Table<T>
        rowKey={rowKey}
        size="middle"
        loading={list.isPending}
        dataSource={rows}
        pagination={false}
        data-testid={testId}
        columns={columns}
        expandable={expandable ? { expandedRowRender: expandable } : undefined}
        locale={{ emptyText: list.isError ? `${t('state.error')}: ${list.error.message}` : t('state.empty') }}
        onRow={onOpen ? (row) => ({ onClick: () => onOpen(row), style: { cursor: 'pointer' } }) : undefined}
      />
      {list.hasNextPage && (
        <Button block onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage} style={{ marginTop: 12 }}>
          {t('common.more')}
        </Button>
      )}
    </>
  );
}

/** A list's primary "new …" button, offered to holders of the permission that writes it. */
export function AddButton({ permission, label, testId, onClick }: { permission: string; label: MessageKey; testId: string; onClick: () => void }) {
  const { t } = useI18n();
  return (
    <Allowed permission={permission}>
      <Button type="primary" onClick={onClick} data-testid={testId}>
        {t(label)}
      </Button>
    </Allowed>
  );
}

/** A list's filter by unit (the server keeps it inside the caller's jurisdiction). */
export function UnitFilter({ value, onChange, label = 'profile.unit' }: { value?: string; onChange: (id: string | undefined) => void; label?: MessageKey }) {
  const { t } = useI18n();
  return (
    <div style={{ width: 260 }}>
      <UnitPicker value={value} onChange={onChange} placeholder={t(label)} />
    </div>
  );
}

/** A filter bar above a list. */
export function Filters({ children }: { children: ReactNode }) {
  return (
    <Space wrap style={{ marginBottom: 16 }}>
      {children}
    </Space>
  );
}

/** Every scalar field of a row, with the actions the caller may take on it. */
export function DetailDrawer({
  row,
  title,
  onClose,
  actions,
  labels = {},
}: {
  row: object | null;
  title?: ReactNode;
  onClose: () => void;
  actions?: ReactNode;
  labels?: Record<string, string>;
}) {
  const { t } = useI18n();
  return (
    <Drawer open={!!row} onClose={onClose} width={560} title={title ?? t('common.detail')} extra={<Space>{actions}</Space>}>
      {row && (
        <Descriptions column={1} bordered size="small" data-testid="detail">
          {Object.entries(row)
            .filter(([, value]) => value !== null && value !== undefined)
            .map(([key, value]) => (
              <Descriptions.Item key={key} label={labels[key] ?? key}>
                {Array.isArray(value) ? value.join('、') : typeof value === 'object' ? JSON.stringify(value) : String(value)}
              </Descriptions.Item>
            ))}
        </Descriptions>
      )}
    </Drawer>
  );
}

/** A modal form: submit runs `send`; a refusal puts its field errors on the fields and the
 * rest in a banner, and nothing is closed. `invalidate` lists the queries the change stales. */
export function FormDialog<V extends object, R = unknown>({
  title,
  send,
  invalidate,
  onClose,
  onDone,
  initialValues,
  children,
}: {
  title: ReactNode;
  send: (values: V) => Promise<R>;
  invalidate: QueryKey[];
  onClose: () => void;
  onDone?: (result: R) => void;
  initialValues?: Partial<V>;
  children: ReactNode | ((form: FormInstance<V>) => ReactNode);
}) {
  const { t } = useI18n();
  const [form] = Form.useForm<V>();
  const [banner, setBanner] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const run = useMutation({
    mutationFn: send,
    onSuccess: (result) => {
      for (const key of invalidate) void queryClient.invalidateQueries({ queryKey: key });
      onClose();
      onDone?.(result);
    },
    onError: (error) => setBanner(showServerErrors(form, error)),
  });
  return (
    <Modal open title={title} onOk={() => form.submit()} onCancel={onClose} confirmLoading={run.isPending}
      okText={t('common.submit')} cancelText={t('common.cancel')} destroyOnClose>
      {banner && <Alert type="error" showIcon message={banner} style={{ marginBottom: 12 }} role="alert" />}
      <Form<V> form={form} layout="vertical" initialValues={initialValues}
        onFinish={(values) => { setBanner(null); run.mutate(values); }}>
        {typeof children === 'function' ? children(form) : children}
      </Form>
    </Modal>
  );
}

/** A unit's name, read once per unit and cached. */
export function UnitName({ id }: { id: string | null | undefined }) {
  const unit = useQuery({
    queryKey: ['org-unit', id],
    queryFn: async () => ok(await api.GET('/api/v1/org-units/{unit_id}', { params: { path: { unit_id: id ?? '' } } })),
    enabled: !!id,
    staleTime: 300_000,
  });
  if (!id) return <>—</>;
  // Still loading: an ellipsis; unreadable: the id's head, which still tells units apart.
  return <>{unit.data?.name ?? (unit.isPending ? '…' : id.slice(0, 8))}</>;
}
