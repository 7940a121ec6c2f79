import { Badge, Tooltip } from 'antd';

import { useI18n } from '../i18n/I18n';
import { LIGHTS, name } from './vocab';

const COLOURS: Record<string, string> = { green: '#52c41a', yellow: '#faad14', red: '#f5222d' };

/** The indicator light (R-SUP-7); closed events have none. */
export function Light({ light }: { light: string | null | undefined }) {
  const { lang } = useI18n();
  if (!light) return <span>—</span>;
  return (
    <Tooltip title={name(LIGHTS, light, lang)}>
      <Badge color={COLOURS[light] ?? '#999'} text={name(LIGHTS, light, lang)} data-testid={`light-${light}`} />
    </Tooltip>
  );
}
