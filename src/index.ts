import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, Notification } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';
import { SrcStageAPI, SrcStageError } from './api';
// The panel is added at activation, so it is needed at once.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { SrcStagePanel } from './components/Panel';
// The declared-data view follows the current notebook from activation on.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { DeclaredData, IDeclaringNotebook, METADATA_KEY } from './declared';
import { setTranslator, trans } from './i18n';
import { srcstageIcon } from './icons';
import { DEFAULT_PREFERENCES, SrcStageModel } from './model';
import { addStagingView } from './view/plugin';
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
    INotebookTracker,
    ITranslator,
    ILauncher
  ],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    notebooks: INotebookTracker | null,
    translator: ITranslator | null,
    launcher: ILauncher | null
  ): SrcStageModel => {
    setTranslator(translator);
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
      },
      showFiles: async (job: IJob) => {
        await app.commands.execute(CommandIDs.openView);
        await model.showJobFiles(job.id); // the view's jobs table opens the job's row
      }
    };

    const declared = new DeclaredData(model);
    const panel = new SrcStagePanel({
      model,
      actions,
      declared,
      openView: () => void app.commands.execute(CommandIDs.openView)
    });
    addStagingView(app, model, { restorer, palette, launcher });
    app.shell.add(panel, 'left', { rank: 650 });
    if (restorer) {
      restorer.add(panel, 'srcstage-jlab-sidebar');
    }

    model.jobFinished.connect(async (_, job) => {
      const what = job.collection_name || job.did;
      if (job.phase === 'completed') {
        Notification.success(trans.__('Staging of “%1” completed.', what), {
          autoClose: 8000,
          actions: [
            {
              label: trans.__('Copy paths'),
              callback: () => void actions.copyPaths(job)
            },
            {
              label: trans.__('Insert code'),
              callback: () => void actions.insertCode(job)
            }
          ]
        });
      } else {
        const { errorText } = await import('./actions');
        const reason = job.error
          ? errorText(new SrcStageError(job.error))
          : trans.__('state %1', job.state);
        Notification.error(
          trans.__('Staging of “%1” failed: %2', what, reason),
          {
            autoClose: false,
            actions: [
              {
                label: trans.__('Show'),
                callback: () => app.shell.activateById(panel.id)
              }
            ]
          }
        );
      }
    });

    const noArgs = { args: { type: 'object' as const, properties: {} } };
    app.commands.addCommand(CommandIDs.open, {
      describedBy: noArgs,
      label: trans.__('Open SRCNet Staging'),
      caption: trans.__('Show the SRCNet staging sidebar'),
      icon: args => (args['isPalette'] ? undefined : srcstageIcon),
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    app.commands.addCommand(CommandIDs.refresh, {
      describedBy: noArgs,
      label: trans.__('Refresh SRCNet Staging'),
      caption: trans.__('Reload sign-in, destination, collections and jobs'),
      execute: async () => {
        await Promise.all([
          model.refreshSession(),
          model.refreshDestination(true),
          model.refreshCollections(),
          model.refreshJobs()
        ]);
      }
    });
    if (notebooks) {
      addDeclaredCommands(app, notebooks, declared);
    }
    if (palette) {
      for (const command of [CommandIDs.declare, CommandIDs.undeclare]) {
        palette.addItem({ command, category: trans.__('SRCNet') });
      }
      palette.addItem({
        command: CommandIDs.open,
        category: trans.__('SRCNet')
      });
      palette.addItem({
        command: CommandIDs.refresh,
        category: trans.__('SRCNet')
      });
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

/** A notebook panel as the declared-data view needs it. */
function declaringNotebook(panel: NotebookPanel): IDeclaringNotebook | null {
  const model = panel.content.model;
  if (!model) {
    return null;
  }
  return {
    path: panel.context.path,
    metadata: () => model.metadata,
    setDeclaration: value => {
      if (value) {
        model.setMetadata(METADATA_KEY, value);
      } else {
        model.deleteMetadata(METADATA_KEY);
      }
      model.dirty = true; // a change to save, like any edit
    },
    metadataChanged: model.metadataChanged
  };
}

/**
 * Follow the current main-area widget (a notebook or not) for the declared-data view, and add the
 * commands that declare the sidebar's open collection in the current notebook, or remove it.
 */
function addDeclaredCommands(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker,
  declared: DeclaredData
): void {
  const model = declared.model;
  // One adapter per notebook: the same notebook coming back (two signals for one switch) is no change.
  const adapters = new WeakMap<NotebookPanel, IDeclaringNotebook>();
  const follow = () => {
    const current = app.shell.currentWidget;
    const panel =
      current && notebooks.has(current) ? (current as NotebookPanel) : null;
    if (panel && !panel.content.model) {
      void panel.context.ready.then(follow); // its model comes when it is loaded
      declared.setNotebook(null);
      return;
    }
    let adapter = panel ? (adapters.get(panel) ?? null) : null;
    if (panel && !adapter) {
      adapter = declaringNotebook(panel);
      if (adapter) {
        adapters.set(panel, adapter);
      }
    }
    declared.setNotebook(adapter);
  };
  app.shell.currentChanged?.connect(follow);
  notebooks.currentChanged.connect(follow);
  void app.restored.then(follow);

  const nameArg = {
    args: {
      type: 'object' as const,
      properties: {
        name: {
          type: 'string',
          description: trans.__(
            'The declared collection (default: the open one)'
          )
        }
      }
    }
  };
  app.commands.addCommand(CommandIDs.declare, {
    describedBy: nameArg,
    // The notebook toolbar's button (schema/plugin.json, "jupyter.lab.toolbars") shows the icon only.
    icon: args => (args['toolbar'] ? srcstageIcon : undefined),
    label: args => {
      if (args['toolbar']) {
        return '';
      }
      const name = model.activeCollection?.name;
      return name
        ? trans.__('Declare “%1” in this notebook', name)
        : trans.__('Declare the open collection in this notebook');
    },
    caption: () => {
      const name = model.activeCollection?.name;
      return name
        ? trans.__(
            'Declare the open collection, “%1”, in this notebook’s metadata.srcstage',
            name
          )
        : trans.__(
            'Declare the sidebar’s open collection in this notebook’s metadata.srcstage'
          );
    },
    isEnabled: () =>
      !!declared.notebook && !!model.activeCollection?.dids.length,
    execute: () => {
      const collection = model.activeCollection;
      if (!collection || !declared.notebook) {
        return;
      }
      const before = declared.declaration.collections.find(
        c => c.name === collection.name
      );
      declared.declare({
        name: collection.name,
        dids: collection.dids.map(d => d.did),
        ...(before?.lifetime !== undefined ? { lifetime: before.lifetime } : {})
      });
    }
  });
  const undeclaredName = (args: Record<string, unknown>) =>
    typeof args['name'] === 'string'
      ? (args['name'] as string)
      : (model.activeCollection?.name ?? '');
  app.commands.addCommand(CommandIDs.undeclare, {
    describedBy: nameArg,
    label: args => {
      const name = undeclaredName(args);
      return name
        ? trans.__('Remove “%1” from this notebook’s declared data', name)
        : trans.__(
            'Remove the open collection from this notebook’s declared data'
          );
    },
    isEnabled: args => declared.isDeclared(undeclaredName(args)),
    execute: args => declared.undeclare(undeclaredName(args))
  });
  // The toolbar button and the menus follow the open collection and the notebook's declarations.
  const changed = () => {
    app.commands.notifyCommandChanged(CommandIDs.declare);
    app.commands.notifyCommandChanged(CommandIDs.undeclare);
  };
  model.changed.connect((_, kind) => {
    if (kind === 'collections') {
      changed();
    }
  });
  declared.changed.connect(changed);
  app.contextMenu.addItem({
    command: CommandIDs.declare,
    selector: '.jp-Notebook',
    rank: 90
  });
  app.contextMenu.addItem({
    command: CommandIDs.undeclare,
    selector: '.jp-Notebook',
    rank: 91
  });
}

export default plugin;
export { SrcStageAPI, SrcStageError } from './api';
export { SrcStageModel } from './model';
export * from './tokens';
