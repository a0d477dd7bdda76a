import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';
import type { SrcStageModel } from '../model';
import {
  BreakableText,
  Button,
  ErrorBox,
  isNotSignedIn,
  Loading,
  Section,
  useModel
} from './common';
import { trans } from '../i18n';

/** The storage area next to this server, or why none could be chosen. */
export function DestinationSection(props: {
  model: SrcStageModel;
}): JSX.Element {
  const { model } = props;
  useModel(model, ['destination']);
  const dest = model.destination;
  const area = dest?.storage_area;
  // Before sign-in there is no destination to show, and nothing went wrong.
  const signedOut = isNotSignedIn(model.destinationError);
  const badge = signedOut
    ? undefined
    : model.destinationError
      ? trans.__('none')
      : area
        ? area.active === false
          ? trans.__('inactive')
          : area.name
        : undefined;
  return (
    <Section
      id="destination"
      title={trans.__('Destination')}
      badge={badge}
      badgeWhenOpen={false}
      tools={
        <Button
          kind="icon"
          icon={refreshIcon}
          aria-label={trans.__('Look for the destination again')}
          disabled={model.destinationLoading}
          onClick={() => void model.refreshDestination(true)}
        />
      }
    >
      <div data-testid="srcstage-destination">
        {model.destinationLoading && !area && !model.destinationError ? (
          <Loading>
            {trans.__('Finding the storage next to this server…')}
          </Loading>
        ) : signedOut ? (
          <div
            className="jp-SrcStage-hint"
            data-testid="srcstage-destination-signed-out"
          >
            {trans.__('Sign in to see where staged data will go.')}
          </div>
        ) : model.destinationError ? (
          <ErrorBox
            error={model.destinationError}
            title={trans.__('No destination for staging')}
            testid="srcstage-destination-error"
          />
        ) : area ? (
          <dl className="jp-SrcStage-facts">
            <dt>{trans.__('Storage')}</dt>
            <dd data-testid="srcstage-destination-name">
              <strong>{area.name ?? area.id}</strong>
              {area.type ? (
                <span className="jp-SrcStage-dim"> ({area.type})</span>
              ) : null}
            </dd>
            {area.site && (
              <>
                <dt>{trans.__('Site')}</dt>
                <dd>
                  {area.site}
                  {area.node ? (
                    <span className="jp-SrcStage-dim"> · {area.node}</span>
                  ) : null}
                </dd>
              </>
            )}
            <dt>{trans.__('State')}</dt>
            <dd>
              {area.active === false ? (
                <span
                  className="jp-SrcStage-state jp-mod-failed"
                  data-testid="srcstage-destination-inactive"
                >
                  {trans.__('inactive')}
                  {area.inactive_reason ? `: ${area.inactive_reason}` : ''}
                </span>
              ) : (
                <span className="jp-SrcStage-state jp-mod-completed">
                  {trans.__('active')}
                </span>
              )}
            </dd>
            {dest?.mount && (
              <>
                <dt>{trans.__('Files at')}</dt>
                <dd>
                  <code>
                    <BreakableText text={dest.mount} />
                  </code>
                </dd>
              </>
            )}
            {(dest?.found_by || dest?.explanation) && (
              <>
                <dt>{trans.__('Chosen')}</dt>
                <dd className="jp-SrcStage-dim">
                  {dest?.explanation || trans.__('by %1', dest?.found_by ?? '')}
                </dd>
              </>
            )}
          </dl>
        ) : (
          <Loading>
            {trans.__('Finding the storage next to this server…')}
          </Loading>
        )}
      </div>
    </Section>
  );
}
