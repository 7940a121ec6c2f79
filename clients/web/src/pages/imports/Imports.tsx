import { Card, Tabs } from 'antd';
import { useState } from 'react';

import { useAuth } from '../../auth/auth';
import { useI18n } from '../../i18n/I18n';
import { Pool } from './Pool';
import { Wizard } from './Wizard';

// Imports (R-IMP-1, R-IMP-2): the district uploads files; the pool's rows are claimed into
// grids by those below it. Each tab only for those who hold its permission.
export function Imports() {
  const { t } = useI18n();
  const { can } = useAuth();
  // /me may still be loading on the first render: the default tab follows it once known.
  const [tab, setTab] = useState<string | undefined>();
  const [importId, setImportId] = useState<string | undefined>();
  const tabs = [
    ...(can('data:import')
      ? [{ key: 'wizard', label: t('imp.wizard'), children: <Wizard onPool={(id) => { setImportId(id); setTab('pool'); }} /> }]
      : []),
    { key: 'pool', label: t('imp.pool'), children: <Pool importId={importId} onImport={setImportId} /> },
  ];
  return (
    <Card title={t('menu.imports')}>
      <Tabs activeKey={tab ?? tabs[0]?.key} onChange={setTab} items={tabs} />
    </Card>
  );
}
