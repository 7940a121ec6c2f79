import { Card, Tabs } from 'antd';
import { useSearchParams } from 'react-router-dom';

import { useAuth } from '../../auth/auth';
import { useI18n } from '../../i18n/I18n';
import { Ledger } from './Ledger';
import { Reviews } from './Reviews';
import { RuleSets } from './RuleSets';
import { Scores } from './Scores';

// Assessment (R-ASM-1 … R-ASM-5): rule sets, the ledger with its causes, scores with rankings
// and map colouring, and the manual reviews. The tab is in the URL so a cause can link here.
export function Assessment() {
  const { t } = useI18n();
  const { can } = useAuth();
  const [params, setParams] = useSearchParams();
  const tabs = [
    { key: 'ledger', label: t('asm.ledger'), children: <Ledger /> },
    { key: 'scores', label: t('asm.scores'), children: <Scores /> },
    { key: 'rules', label: t('asm.rules'), children: <RuleSets /> },
    ...(can('assessment:review')
      ? [{ key: 'reviews', label: t('asm.reviews'), children: <Reviews initial={params.get('review')} /> }]
      : []),
  ];
  const active = tabs.some((tab) => tab.key === params.get('tab')) ? (params.get('tab') as string) : 'ledger';
  return (
    <Card title={t('menu.assessment')}>
      <Tabs activeKey={active} onChange={(tab) => setParams({ tab })} items={tabs} destroyInactiveTabPane />
    </Card>
  );
}
