// Config helpers of mtdnn-focal.
{
  // The `focal` loss: gamma 0 is the cross-entropy; alpha weighs each class (label-id order).
  loss(gamma=2.0, alpha=null):: { type: 'focal', gamma: gamma } + (if alpha != null then { alpha: alpha } else {}),
}
