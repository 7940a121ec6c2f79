import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ConfigProvider } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import 'dayjs/locale/zh-cn';
import type { ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';

import { AuthProvider, useAuth } from './auth/auth';
import { I18nProvider, useI18n } from './i18n/I18n';
import { AppLayout } from './layout/AppLayout';
import { visibleMenu } from './layout/menu';
import { Analysis } from './pages/Analysis';
import { CommandCentre } from './pages/CommandCentre';
import { EventDetail } from './pages/EventDetail';
import { GridEditor } from './pages/grids/GridEditor';
import { Login } from './pages/Login';
import { MapQuery } from './pages/mapquery/MapQuery';
import { Notices } from './pages/Notices';
import { Notifications } from './pages/Notifications';
import { People } from './pages/People';
import { Profile } from './pages/Profile';
import { Registries } from './pages/Registries';
import { Assessment } from './pages/assessment/Assessment';
import { Buildings } from './pages/buildings/Buildings';
import { Imports } from './pages/imports/Imports';
import { Workbench } from './pages/Workbench';
import { ApiKeys } from './pages/admin/ApiKeys';
import { Audit } from './pages/admin/Audit';
import { Calendar } from './pages/admin/Calendar';
import { Departments } from './pages/admin/Departments';
import { Dictionaries } from './pages/admin/Dictionaries';
import { Roles } from './pages/admin/Roles';
import { RoutingRules } from './pages/admin/RoutingRules';
import { Users } from './pages/admin/Users';

function RequireAuth({ children }: { children: ReactNode }) {
  const { signedIn } = useAuth();
  const location = useLocation();
  if (!signedIn) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <>{children}</>;
}

function Home() {
  const { me } = useAuth();
  if (!me) return null;
  return <Navigate to={visibleMenu(me)[0]?.path ?? '/profile'} replace />;
}

/** A page opens only for those its menu entry is offered to; anyone else goes home. */
function Offered({ children }: { children: ReactNode }) {
  const { me } = useAuth();
  const location = useLocation();
  if (!me) return null;
  const offered = visibleMenu(me).some((entry) => location.pathname.startsWith(entry.path));
  return offered ? <>{children}</> : <Navigate to="/" replace />;
}

function Localised({ children }: { children: ReactNode }) {
  const { lang } = useI18n();
  return <ConfigProvider locale={lang === 'en' ? enUS : zhCN}>{children}</ConfigProvider>;
}

const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } } });

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <I18nProvider>
        <Localised>
          <BrowserRouter>
            <AuthProvider>
              <Routes>
                <Route path="/login" element={<Login />} />
                <Route
                  path="/command"
                  element={
                    <RequireAuth>
                      <CommandCentre />
                    </RequireAuth>
                  }
                />
                <Route
                  element={
                    <RequireAuth>
                      <AppLayout />
                    </RequireAuth>
                  }
                >
                  <Route index element={<Home />} />
                  <Route path="/workbench" element={<Workbench />} />
                  <Route path="/events/:id" element={<EventDetail />} />
                  <Route path="/analysis" element={<Analysis />} />
                  <Route path="/people" element={<People />} />
                  <Route path="/registries" element={<Registries />} />
                  <Route path="/buildings" element={<Buildings />} />
                  <Route path="/assessment" element={<Assessment />} />
                  <Route path="/imports" element={<Imports />} />
                  <Route path="/notices" element={<Notices />} />
                  <Route path="/grids" element={<GridEditor />} />
                  <Route path="/map" element={<MapQuery />} />
                  <Route path="/notifications" element={<Notifications />} />
                  <Route path="/profile" element={<Profile />} />
                  <Route path="/admin/users" element={<Offered><Users /></Offered>} />
                  <Route path="/admin/roles" element={<Offered><Roles /></Offered>} />
                  <Route path="/admin/departments" element={<Offered><Departments /></Offered>} />
                  <Route path="/admin/dictionaries" element={<Offered><Dictionaries /></Offered>} />
                  <Route path="/admin/calendar" element={<Offered><Calendar /></Offered>} />
                  <Route path="/admin/routing-rules" element={<Offered><RoutingRules /></Offered>} />
                  <Route path="/admin/api-keys" element={<Offered><ApiKeys /></Offered>} />
                  <Route path="/admin/audit" element={<Offered><Audit /></Offered>} />
                  <Route path="*" element={<Navigate to="/" replace />} />
                </Route>
              </Routes>
            </AuthProvider>
          </BrowserRouter>
        </Localised>
      </I18nProvider>
    </QueryClientProvider>
  );
}
