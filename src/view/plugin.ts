/**
 * Wiring of the main-area staging view: its command (palette, launcher,
 * sidebar link) and its restoration on reload by the layout restorer.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  ReactWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import type { ILauncher } from '@jupyterlab/launcher';
import { trans } from '../i18n';
import { srcstageIcon } from '../icons';
import type { SrcStageModel } from '../model';
import { CommandIDs } from '../tokens';

export interface IStagingViewHosts {
  restorer: ILayoutRestorer | null;
  palette: ICommandPalette | null;
  launcher: ILauncher | null;
}

/**
 * Add the view's command and restoration; the view module loads on first open.
 * Returns the tracker of the (at most one) open view.
 */
export function addStagingView(
  app: JupyterFrontEnd,
  model: SrcStageModel,
  hosts: IStagingViewHosts
): WidgetTracker<MainAreaWidget<ReactWidget>> {
  const tracker = new WidgetTracker<MainAreaWidget<ReactWidget>>({
    namespace: 'srcstage-jlab-view'
  });
  app.commands.addCommand(CommandIDs.openView, {
    describedBy: { args: { type: 'object', properties: {} } },
    label: args =>
      args['isLauncher']
        ? trans.__('SRCNet Staging')
        : trans.__('Open SRCNet Staging View'),
    caption: trans.__(
      'Search results, the open collection and the jobs in the main area'
    ),
    icon: args => (args['isPalette'] ? undefined : srcstageIcon),
    execute: async () => {
      let widget = tracker.currentWidget;
      if (!widget || widget.isDisposed) {
        const { createStagingView } = await import('./StagingView');
        widget = createStagingView(model);
        void tracker.add(widget);
        app.shell.add(widget, 'main');
      }
      app.shell.activateById(widget.id);
      return widget;
    }
  });
  hosts.palette?.addItem({
    command: CommandIDs.openView,
    category: trans.__('SRCNet')
  });
  hosts.launcher?.add({
    command: CommandIDs.openView,
    category: trans.__('Other'),
    rank: 50
  });
  if (hosts.restorer) {
    void hosts.restorer.restore(tracker, {
      command: CommandIDs.openView,
      name: () => 'view'
    });
  }
  return tracker;
}
