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
import { Login } from './pages/Login';
import { Notices } from './pages/Notices';
import { Notifications } from './pages/Notifications';
import { People } from './pages/People';
import { Profile } from './pages/Profile';
import { Registries } from './pages/Registries';
import { Assessment } from './pages/assessment/Assessment';
import { Buildings } from './pages/buildings/Buildings';
import { Imports } from './pages/imports/Imports';
import { Workbench } from './pages/Workbench';

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
                  <Route path="/notifications" element={<Notifications />} />
                  <Route path="/profile" element={<Profile />} />
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
