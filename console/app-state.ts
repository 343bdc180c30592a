/** Who is signed in and which project the pages show, for every page (a Preact context). */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ConsoleSessionDto, ProjectDto } from '../protocol/api';

export interface AppState {
  session: ConsoleSessionDto;
  project: ProjectDto | undefined;
  /** Admin of the project shown: admin pages and controls appear only then (the API checks again). */
  isAdmin: boolean;
  selectProject(projectId: string): void;
  signOut(): Promise<void>;
}

export const AppContext = createContext<AppState | undefined>(undefined);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error('useApp outside the signed-in app');
  return state;
}
