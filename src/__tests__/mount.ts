/**
 * Render a component into a fresh element of the test document, the way
 * JupyterLab's ReactWidget would, and take it away again.
 */
import * as React from 'react';
import { createRoot } from 'react-dom/client';
import { act } from 'react';
import type { IJobActions } from '../components/Jobs';

/** Panel actions that do nothing (the component tests do not copy or insert). */
export const NO_ACTIONS: IJobActions = {
  copyPaths: async () => undefined,
  insertCode: async () => undefined,
  showFiles: async () => undefined
};

export interface IMounted {
  host: HTMLDivElement;
  unmount: () => void;
}

export async function mount(element: React.ReactElement): Promise<IMounted> {
  const host = document.createElement('div');
  document.body.appendChild(host);
  const root = createRoot(host);
  await act(async () => {
    root.render(element);
  });
  return {
    host,
    unmount: () => {
      act(() => root.unmount());
      host.remove();
    }
  };
}
