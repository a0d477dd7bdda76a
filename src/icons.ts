import { LabIcon } from '@jupyterlab/ui-components';
import srcstageSvg from '../style/icons/srcstage.svg';

/** The sidebar's icon: a storage stack with an arrow coming in. */
export const srcstageIcon = new LabIcon({
  name: 'srcstage-jlab:srcstage',
  svgstr: srcstageSvg
});
