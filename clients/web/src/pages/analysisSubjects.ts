// The statistics' subjects and the permission each needs (services/analysis.py SUBJECTS).
export const ANALYSIS_SUBJECTS = [
  { subject: 'events', permission: 'event:read' },
  { subject: 'people', permission: 'population:read' },
  { subject: 'tags', permission: 'tag:read' },
  { subject: 'houses', permission: 'house:read' },
  { subject: 'rentals', permission: 'house:read' },
  { subject: 'places', permission: 'place:read' },
  { subject: 'organisations', permission: 'place:read' },
  { subject: 'teams', permission: 'team:read' },
  { subject: 'components', permission: 'place:read' },
] as const;
