/** The signed-in frame: skip link, header (project, user, sign out), navigation, and the page of the route. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ConsoleSessionDto } from '../protocol/api';
import { api } from './api/console-api';
import { AppContext, type AppState } from './app-state';
import { AccessRequestsPage } from './pages/access-requests-page';
import { AuditPage } from './pages/audit-page';
import { GatewaysPage } from './pages/gateways-page';
import { MembersPage } from './pages/members-page';
import { MfaPage } from './pages/mfa-page';
import { ResourcePage } from './pages/resource-page';
import { ResourcesPage } from './pages/resources-page';
import { SessionPage } from './pages/session-page';
import { SessionsPage } from './pages/sessions-page';
import { href, type Route, useRoute } from './router';

const PROJECT_KEY = 'portcullis.console.project';

interface NavItem {
  path: string;
  label: string;
  adminOnly?: boolean;
}

const NAV: readonly NavItem[] = [
  { path: '/sessions', label: 'Sessions' },
  { path: '/resources', label: 'Resources' },
  { path: '/gateways', label: 'Gateways', adminOnly: true },
  { path: '/members', label: 'Members and roles', adminOnly: true },
  { path: '/audit', label: 'Audit log', adminOnly: true },
  { path: '/access-requests', label: 'Access requests' },
  { path: '/mfa', label: 'My MFA' },
];

function pageFor(route: Route) {
  const [first, second] = route.parts;
  switch (first) {
    case 'resources':
      return second ? <ResourcePage resourceId={second} /> : <ResourcesPage />;
    case 'gateways':
      return <GatewaysPage />;
    case 'members':
      return <MembersPage />;
    case 'audit':
      return <AuditPage />;
    case 'access-requests':
      return <AccessRequestsPage />;
    case 'mfa':
      return <MfaPage />;
    default:
      return second ? <SessionPage sessionId={second} /> : <SessionsPage query={route.query} />;
  }
}

export function AppShell({ session, onSignedOut }: { session: ConsoleSessionDto; onSignedOut(): void }) {
  const route = useRoute();
  const [projectId, setProjectId] = useState(() => localStorage.getItem(PROJECT_KEY) ?? undefined);
  const project = session.projects.find((p) => p.id === projectId) ?? session.projects[0];
  const main = useRef<HTMLElement>(null);

  const state: AppState = useMemo(
    () => ({
      session,
      project,
      isAdmin: project?.role === 'admin',
      selectProject(id: string) {
        localStorage.setItem(PROJECT_KEY, id);
        setProjectId(id);
      },
      async signOut() {
        await api.post('/console/sign-out').catch(() => undefined);
        onSignedOut();
      },
    }),
    [session, project, onSignedOut],
  );

  // A new page moves the focus to its heading, so keyboard and screen-reader users start at its top.
  const path = route.parts.join('/');
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [path]);

  const current = `/${route.parts[0] ?? 'sessions'}`;
  return (
    <AppContext.Provider value={state}>
      {/* A button, not a link to #main: the part after # is the page's address here. */}
      <button type="button" class="skip-link" onClick={() => main.current?.querySelector<HTMLElement>('h1')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">Portcullis</span>
        {session.projects.length > 1 && (
          <label class="project-pick">
            Project
            <select value={project?.id} onChange={(e) => state.selectProject(e.currentTarget.value)}>
              {session.projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.role})
                </option>
              ))}
            </select>
          </label>
        )}
        {session.projects.length === 1 && project && (
          <span class="project-name">
            {project.name} <span class="role">({project.role})</span>
          </span>
        )}
        <span class="user">{session.user.email}</span>
        <button type="button" onClick={() => void state.signOut()}>
          Sign out
        </button>
      </header>
      <div class="frame">
        <nav class="side" aria-label="Console pages">
          <ul>
            {NAV.filter((item) => !item.adminOnly || state.isAdmin).map((item) => (
              <li key={item.path}>
                <a href={href(item.path)} aria-current={current === item.path ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" ref={main}>
          {project ? pageFor(route) : <p>You are not a member of any project yet: ask an admin to add you.</p>}
        </main>
      </div>
    </AppContext.Provider>
  );
}
