import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { SrcStageAPI, SrcStageError } from './api';
// The panel is added at activation, so it is needed at once.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { SrcStagePanel } from './components/Panel';
import { srcstageIcon } from './icons';
import { DEFAULT_PREFERENCES, SrcStageModel } from './model';
import {
  CommandIDs,
  IJob,
  IPreferences,
  ISrcStageModel,
  PLUGIN_ID
} from './tokens';

/** Read the user's preferences, falling back on the defaults. */
function readPreferences(settings: ISettingRegistry.ISettings): IPreferences {
  const days = settings.get('defaultLifetimeDays').composite;
  const poll = settings.get('pollIntervalSeconds').composite;
  return {
    defaultLifetimeDays:
      typeof days === 'number' && days >= 0
        ? days
        : DEFAULT_PREFERENCES.defaultLifetimeDays,
    pollIntervalS:
      typeof poll === 'number' && poll >= 0
        ? poll
        : DEFAULT_PREFERENCES.pollIntervalS
  };
}

const plugin: JupyterFrontEndPlugin<SrcStageModel> = {
  id: PLUGIN_ID,
  description:
    'Collect SRCNet data identifiers, stage them next to this server and use the files in notebooks.',
  autoStart: true,
  provides: ISrcStageModel,
  optional: [
    ILayoutRestorer,
    ICommandPalette,
    ISettingRegistry,
    INotebookTracker
  ],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    notebooks: INotebookTracker | null
  ): SrcStageModel => {
    const model = new SrcStageModel({
      api: new SrcStageAPI(app.serviceManager.serverSettings)
    });

    const actions = {
      copyPaths: async (job: IJob) => {
        const { copyJobPaths } = await import('./actions');
        await copyJobPaths(model, job);
      },
      insertCode: async (job: IJob) => {
        const { insertJobCode } = await import('./actions');
        if (insertJobCode(notebooks, job) && notebooks?.currentWidget) {
          app.shell.activateById(notebooks.currentWidget.id);
        }
      }
    };

    const panel = new SrcStagePanel({ model, actions });
    app.shell.add(panel, 'left', { rank: 650 });
    if (restorer) {
      restorer.add(panel, 'srcstage-jlab-sidebar');
    }

    model.jobFinished.connect(async (_, job) => {
      const what = job.collection_name || job.did;
      if (job.phase === 'completed') {
        Notification.success(`Staging of “${what}” completed.`, {
          autoClose: 8000,
          actions: [
            {
              label: 'Copy paths',
              callback: () => void actions.copyPaths(job)
            },
            {
              label: 'Insert code',
              callback: () => void actions.insertCode(job)
            }
          ]
        });
      } else {
        const { errorText } = await import('./actions');
        const reason = job.error
          ? errorText(new SrcStageError(job.error))
          : `state ${job.state}`;
        Notification.error(`Staging of “${what}” failed: ${reason}`, {
          autoClose: false,
          actions: [
            {
              label: 'Show',
              callback: () => app.shell.activateById(panel.id)
            }
          ]
        });
      }
    });

    const noArgs = { args: { type: 'object' as const, properties: {} } };
    app.commands.addCommand(CommandIDs.open, {
      describedBy: noArgs,
      label: 'Open SRCNet Staging',
      caption: 'Show the SRCNet staging sidebar',
      icon: args => (args['isPalette'] ? undefined : srcstageIcon),
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    app.commands.addCommand(CommandIDs.refresh, {
      describedBy: noArgs,
      label: 'Refresh SRCNet Staging',
      caption: 'Reload sign-in, destination, collections and jobs',
      execute: async () => {
        await Promise.all([
          model.refreshSession(),
          model.refreshDestination(true),
          model.refreshCollections(),
          model.refreshJobs()
        ]);
      }
    });
    if (palette) {
      palette.addItem({ command: CommandIDs.open, category: 'SRCNet' });
      palette.addItem({ command: CommandIDs.refresh, category: 'SRCNet' });
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          model.setPreferences(readPreferences(settings));
          settings.changed.connect(() =>
            model.setPreferences(readPreferences(settings))
          );
        })
        .catch(reason => {
          console.warn('srcstage-jlab: settings could not be loaded', reason);
        });
    }

    void model.initialize();
    return model;
  }
};

export default plugin;
export { SrcStageAPI, SrcStageError } from './api';
export { SrcStageModel } from './model';
export * from './tokens';
