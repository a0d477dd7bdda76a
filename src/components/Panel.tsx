import { ReactWidget } from '@jupyterlab/apputils';
import { Message } from '@lumino/messaging';
import * as React from 'react';
import { srcstageIcon } from '../icons';
import type { DeclaredData } from '../declared';
import type { SrcStageModel } from '../model';
import { AccountSection } from './Account';
import { CollectionsSection } from './Collections';
import { DeclaredSection } from './Declared';
import { DestinationSection } from './Destination';
import { FindDataSection } from './FindData';
import { IJobActions, JobsSection } from './Jobs';
import { trans } from '../i18n';

export interface ISrcStageViewProps {
  model: SrcStageModel;
  actions: IJobActions;
  /** The current notebook's declared data (absent in tests of the rest). */
  declared?: DeclaredData;
  /** Open the wide main-area view (absent in tests without an app). */
  openView?: () => void;
}

/** The whole sidebar, top to bottom in the order of the work. */
export function SrcStageView(props: ISrcStageViewProps): JSX.Element {
  const { model, actions, declared } = props;
  return (
    <div className="jp-SrcStage-panel" data-testid="srcstage-panel">
      <header className="jp-SrcStage-header">
        <srcstageIcon.react tag="span" className="jp-SrcStage-headerIcon" />
        <h2 className="jp-SrcStage-headerTitle">
          {trans.__('SRCNet staging')}
        </h2>
        {props.openView && (
          <button
            type="button"
            className="jp-SrcStage-button jp-SrcStage-button-normal jp-SrcStage-openView"
            data-testid="srcstage-open-view"
            onClick={props.openView}
          >
            {trans.__('Open wide view')}
          </button>
        )}
      </header>
      <div className="jp-SrcStage-scroll">
        <AccountSection model={model} />
        <DestinationSection model={model} />
        {declared && <DeclaredSection declared={declared} />}
        <FindDataSection model={model} />
        <CollectionsSection model={model} />
        <JobsSection model={model} actions={actions} />
      </div>
    </div>
  );
}

/** The left-area widget; tells the model when it is seen (for polling). */
export class SrcStagePanel extends ReactWidget {
  constructor(options: ISrcStageViewProps) {
    super();
    this._props = options;
    this.id = 'srcstage-jlab-sidebar';
    this.addClass('jp-SrcStage');
    this.title.icon = srcstageIcon;
    this.title.caption = trans.__('SRCNet staging');
  }

  get model(): SrcStageModel {
    return this._props.model;
  }

  protected render(): JSX.Element {
    return <SrcStageView {...this._props} />;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._props.model.setVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._props.model.setVisible(false);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._props.model.setVisible(this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this._props.model.setVisible(false);
    super.onBeforeDetach(msg);
  }

  private _props: ISrcStageViewProps;
}
